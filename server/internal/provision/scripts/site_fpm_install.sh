# Installs stdin as the PHP-FPM pool of site $1 for PHP $2 once its SHA-256
# is $3, and reloads that PHP-FPM. A pool PHP-FPM rejects is rolled back,
# so the other sites' pools keep running. The site's pools of other PHP
# versions are removed. Returns once the pool's socket is there.
name=$1 version=$2
dir=/etc/php/$version/fpm/pool.d
[ -d "$dir" ] || { echo "PHP $version with FPM is not installed on this server" >&2; exit 1; }
dst=$dir/$name.conf new=$dir/$name.conf.chom-new old=$dir/$name.conf.chom-old
umask 022
cat > "$new"
if [ "$(sha256sum < "$new" | cut -d ' ' -f 1)" != "$3" ]; then
	rm -f "$new"
	echo "the pool configuration arrived incomplete" >&2
	exit 1
fi
had_old=no
if [ -e "$dst" ]; then
	cp -p "$dst" "$old"
	had_old=yes
fi
chmod 0644 "$new"
mv -f "$new" "$dst"
if ! out=$("php-fpm$version" -t 2>&1); then
	if [ "$had_old" = yes ]; then mv -f "$old" "$dst"; else rm -f "$dst"; fi
	printf 'PHP-FPM rejected the pool:\n%s\n' "$out" >&2
	exit 1
fi
rm -f "$old"
unit=php$version-fpm
if svc status "$unit"; then svc reload "$unit"; else svc start "$unit"; fi
for other in /etc/php/*/fpm/pool.d/"$name".conf; do
	[ "$other" != "$dst" ] && [ -e "$other" ] || continue
	rm -f "$other"
	v=${other#/etc/php/}
	v=${v%%/*}
	if svc status "php$v-fpm"; then svc reload "php$v-fpm"; fi
done
# A reload is asynchronous: the master re-reads its pools after replying.
i=0
until [ -S "/run/php/$name.sock" ]; do
	i=$((i + 1))
	[ "$i" -le 150 ] || { echo "PHP-FPM did not open /run/php/$name.sock after the reload" >&2; exit 1; }
	sleep 0.1
done
