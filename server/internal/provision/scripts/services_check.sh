# Succeeds when every unit behind the services "$@" (nginx, php-fpm,
# database) runs and starts at boot.
for service in "$@"; do
	found=no
	for unit in $(units "$service"); do
		found=yes
		svc status "$unit" && svc enabled "$unit" || exit 1
	done
	[ "$found" = yes ] || { echo "no unit provides $service" >&2; exit 2; }
done
