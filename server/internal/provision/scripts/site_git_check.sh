# Succeeds when $2 is a checkout, owned by the site user $1, of the
# repository $3 at the branch $4 (or its default branch when $4 is empty).
[ -d "$2/.git" ] && [ ! -L "$2" ] || exit 1
[ "$(stat -c %U "$2")" = "$1" ] || exit 1
url=$(runuser -u "$1" -- git -C "$2" config --get remote.origin.url) || exit 1
[ "$url" = "$3" ] || exit 1
[ -z "$4" ] || [ "$(runuser -u "$1" -- git -C "$2" rev-parse --abbrev-ref HEAD)" = "$4" ]
