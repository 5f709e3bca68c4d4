# Removes the nginx configuration file $1 and reloads nginx. Should nginx
# reject what is left, the file is put back and nginx keeps serving.
nginx_lock
[ -e "$1" ] || exit 0
mv -f "$1" "$1.chom-removed"
if ! nginx_check; then
	mv -f "$1.chom-removed" "$1"
	exit 1
fi
rm -f "$1.chom-removed"
if svc status nginx; then svc reload nginx; fi
