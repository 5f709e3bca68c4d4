# Installs stdin as the nginx configuration file $1 (mode 0644) and reloads
# nginx. A configuration nginx rejects is rolled back, leaving nginx
# serving what it served before.
nginx_lock
dst=$1
new="$dst.chom-new" old="$dst.chom-old"
umask 022
cat > "$new"
had_old=no
if [ -e "$dst" ]; then
	cp -p "$dst" "$old"
	had_old=yes
fi
chmod 0644 "$new"
mv -f "$new" "$dst"
if ! nginx_check; then
	if [ "$had_old" = yes ]; then mv -f "$old" "$dst"; else rm -f "$dst"; fi
	exit 1
fi
rm -f "$old"
if svc status nginx; then svc reload nginx; else svc start nginx; fi
