# Succeeds when PHP $2 runs the pool of site $1 from a file with the
# SHA-256 $3, listening on its socket, and no other PHP version has a pool
# for the site.
file=/etc/php/$2/fpm/pool.d/$1.conf
[ -f "$file" ] || exit 1
[ "$(sha256sum < "$file" | cut -d ' ' -f 1)" = "$3" ] || exit 1
[ -S "/run/php/$1.sock" ] || exit 1
for other in /etc/php/*/fpm/pool.d/"$1".conf; do
	[ "$other" = "$file" ] || [ ! -e "$other" ] || exit 1
done
