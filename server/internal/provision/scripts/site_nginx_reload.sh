# Reloads nginx, which reads certificates only when it loads its
# configuration; a configuration nginx rejects is not loaded.
nginx_lock
nginx_check
if svc status nginx; then svc reload nginx; fi
