# Installs the Composer dependencies of the application in $3 as the site
# user $1, whose home is $2, without development packages or questions.
command -v composer >/dev/null || { echo "composer is not installed on this server" >&2; exit 1; }
runuser -u "$1" -- env HOME="$2" COMPOSER_HOME="$2/.composer" COMPOSER_NO_INTERACTION=1 sh -c '
set -eu
cd "$1"
composer install --no-dev --no-interaction --no-progress --optimize-autoloader' sh "$3"
