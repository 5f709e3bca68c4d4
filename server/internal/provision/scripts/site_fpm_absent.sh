# Succeeds when no PHP version has a pool for site $1.
for file in /etc/php/*/fpm/pool.d/"$1".conf; do
	[ ! -e "$file" ] || exit 1
done
