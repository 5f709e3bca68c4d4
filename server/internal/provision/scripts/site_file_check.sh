# Succeeds when $1 is a regular file with mode $2, owner $3, group $4 and
# the SHA-256 $5.
[ -f "$1" ] && [ ! -L "$1" ] || exit 1
[ "$(stat -c '%a %U %G' "$1")" = "$2 $3 $4" ] || exit 1
[ "$(sha256sum < "$1" | cut -d ' ' -f 1)" = "$5" ]
