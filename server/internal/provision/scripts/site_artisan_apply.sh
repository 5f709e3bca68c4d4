# Runs the migrations of the Laravel application in $3 as the site user $1,
# whose home is $2, then records the commit in the marker $4.
runuser -u "$1" -- env HOME="$2" sh -c '
set -eu
cd "$1"
php artisan migrate --force --no-interaction
git rev-parse HEAD > "$2"' sh "$3" "$4"
