# Removes every PHP-FPM pool of site $1 and reloads the PHP-FPM that ran it.
for file in /etc/php/*/fpm/pool.d/"$1".conf; do
	[ -e "$file" ] || continue
	rm -f "$file"
	v=${file#/etc/php/}
	v=${v%%/*}
	if svc status "php$v-fpm"; then svc reload "php$v-fpm"; fi
done
rm -f "/run/php/$1.sock"
