# Succeeds when nothing is left of the site user $1: no account, no group,
# no home $2, no certificate directory $3.
! getent passwd "$1" >/dev/null || exit 1
! getent group "$1" >/dev/null || exit 1
[ ! -e "$2" ] && [ ! -L "$2" ] && [ ! -e "$3" ]
