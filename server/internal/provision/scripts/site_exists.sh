# Succeeds when the path $1 exists.
[ -e "$1" ]
