# Succeeds when WordPress's files were copied into $1 to the end, which
# the marker file $2 records.
[ -f "$2" ] && [ -f "$1/wp-includes/version.php" ]
