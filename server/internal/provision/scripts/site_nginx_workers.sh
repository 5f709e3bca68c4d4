# Prints the nginx worker processes that accept connections now, before a
# reload replaces them.
pidfile=/run/nginx.pid
[ -s "$pidfile" ] || exit 0
for pid in $(ps -o pid= --ppid "$(cat "$pidfile")" 2>/dev/null); do
	case $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) in
	*"shutting down"*) ;;
	*worker*) echo "$pid" ;;
	esac
done
