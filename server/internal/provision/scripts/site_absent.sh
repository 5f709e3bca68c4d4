# Succeeds when the path $1 does not exist.
[ ! -e "$1" ] && [ ! -L "$1" ]
