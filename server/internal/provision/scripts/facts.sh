# Prints what the server is, one key=value per line.
os=unknown id= like=
if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091 # a server's file
	. /etc/os-release
	os=${PRETTY_NAME:-${NAME:-unknown}} id=${ID:-} like=${ID_LIKE:-}
fi
echo "os=$os"
echo "os_id=$id"
echo "os_like=$like"
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
awk '/^MemTotal:/ { print "memory_kb=" $2 }' /proc/meminfo
df -P -B1 / | awk 'NR == 2 { print "disk_bytes=" $2 }'
for bin in /usr/sbin/php-fpm[0-9]*; do
	if [ -x "$bin" ]; then echo "php=${bin#/usr/sbin/php-fpm}"; fi
done
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then echo apt=yes; else echo apt=no; fi
echo "uid=$(id -u)"
