# Waits until the nginx workers "$@", which ran before a reload, stop
# accepting connections: from then on every new connection is served with
# the new configuration. A reload only signals nginx's master, which starts
# new workers and retires the old ones a moment later.
i=0
while :; do
	busy=no
	for pid in "$@"; do
		cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
		case $cmd in
		*"shutting down"*) ;;
		*worker*) busy=yes ;;
		esac
	done
	[ "$busy" = no ] && exit 0
	i=$((i + 1))
	[ "$i" -le 200 ] || { echo "nginx did not take up its new configuration within 20 seconds" >&2; exit 1; }
	sleep 0.1
done
