# Arguments come in fours: path, octal mode, owner, group. Succeeds when
# every directory exists with exactly that mode and ownership.
while [ $# -ge 4 ]; do
	[ -d "$1" ] && [ ! -L "$1" ] || exit 1
	[ "$(stat -c '%a %U %G' "$1")" = "$2 $3 $4" ] || exit 1
	shift 4
done
