# Prints the server's vital signs, one key=value per line. It never fails
# on a stopped service: that is a finding, not an error.
echo "load1=$(cut -d ' ' -f 1 /proc/loadavg)"
awk '/^MemTotal:/ { print "memory_total_kb=" $2 } /^MemAvailable:/ { print "memory_available_kb=" $2 }' /proc/meminfo
df -P -B1 / | awk 'NR == 2 { print "disk_total_bytes=" $2; print "disk_used_bytes=" $3 }'
state() { if svc status "$1"; then echo running; else echo stopped; fi; }
echo "nginx=$(state nginx)"
php=stopped
for unit in $(units php-fpm); do
	if [ "$(state "$unit")" = running ]; then php=running; fi
done
echo "php_fpm=$php"
