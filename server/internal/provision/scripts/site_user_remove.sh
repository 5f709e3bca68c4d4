# Removes the site user $1 with everything of it: its processes, its home
# $2, its certificate directory $3 and its nginx logs. What is already gone
# is skipped.
if getent passwd "$1" >/dev/null; then
	# PHP-FPM workers of a pool removed a moment ago may still be exiting.
	i=0
	while pkill -KILL -u "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le 50 ] || { echo "processes of $1 survived SIGKILL" >&2; exit 1; }
		sleep 0.1
	done
	userdel "$1"
fi
if getent group "$1" >/dev/null; then groupdel "$1"; fi
rm -rf --one-file-system -- "$2" "$3"
rm -f -- "/var/log/nginx/$1.access.log" "/var/log/nginx/$1.error.log"
