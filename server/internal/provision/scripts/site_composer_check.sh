# Succeeds when the application in $1 needs no Composer install: it has no
# composer.json, or its dependencies are installed.
[ ! -f "$1/composer.json" ] || [ -f "$1/vendor/autoload.php" ]
