# Copies WordPress from the distribution's package into the web root $2 as
# the site user $1, then records it in the marker file $3. Debian's own
# wp-config.php, which reads /etc/wordpress, is left out: the site gets
# its own.
src=/usr/share/wordpress
[ -f "$src/wp-includes/version.php" ] || { echo "WordPress is not installed on this server (the Debian package wordpress provides $src)" >&2; exit 1; }
runuser -u "$1" -- sh -c '
set -eu
rm -f "$3"
cp -R -L "$1/." "$2/"
rm -f "$2/wp-config.php" "$2/.htaccess"
: > "$3"' sh "$src" "$2" "$3"
