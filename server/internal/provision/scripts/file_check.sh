# Succeeds when the file $1 exists with the SHA-256 $2.
[ -f "$1" ] || exit 1
[ "$(sha256sum < "$1" | cut -d ' ' -f 1)" = "$2" ]
