# Succeeds when the application in $2 of the site user $1 has no artisan,
# or its migrations ran at the commit checked out, as the marker $3 records.
[ -f "$2/artisan" ] || exit 0
[ -f "$3" ] || exit 1
head=$(runuser -u "$1" -- git -C "$2" rev-parse HEAD) || exit 1
[ "$(cat "$3")" = "$head" ]
