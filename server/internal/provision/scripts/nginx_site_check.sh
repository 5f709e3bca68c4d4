# Succeeds when the distribution's site $1 is not enabled. A site of that
# name that is not the distribution's (a link elsewhere, a file) is the
# administrator's and counts as disabled: it is left alone.
link=/etc/nginx/sites-enabled/$1
! { [ -L "$link" ] && [ "$(readlink "$link")" = "/etc/nginx/sites-available/$1" ]; }
