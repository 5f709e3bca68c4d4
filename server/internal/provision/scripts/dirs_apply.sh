# Arguments come in fours: path, octal mode, owner, group.
while [ $# -ge 4 ]; do
	if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
		echo "$1 exists and is not a directory" >&2
		exit 1
	fi
	install -d -m "$2" -o "$3" -g "$4" "$1"
	chown "$3:$4" "$1"
	chmod "$2" "$1"
	shift 4
done
