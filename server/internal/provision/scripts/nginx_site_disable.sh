# Disables the distribution's site $1 and reloads nginx; rolled back if
# nginx rejects the result.
nginx_lock
link=/etc/nginx/sites-enabled/$1
target=/etc/nginx/sites-available/$1
rm -f "$link"
if ! nginx_check; then
	ln -s "$target" "$link"
	exit 1
fi
if svc status nginx; then svc reload nginx; else svc start nginx; fi
