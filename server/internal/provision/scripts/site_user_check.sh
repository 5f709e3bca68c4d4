# Succeeds when the system user $1 exists with the home $2, its own group
# and no login shell.
entry=$(getent passwd "$1") || exit 1
[ "$(echo "$entry" | cut -d: -f6)" = "$2" ] || exit 1
[ "$(echo "$entry" | cut -d: -f7)" = /usr/sbin/nologin ] || exit 1
[ "$(id -gn "$1")" = "$1" ]
