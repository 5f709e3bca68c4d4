# Writes to stdout a tar of the application directory $3 (which must sit
# directly in the home $2, and is archived under its base name), read as
# the site user $1: the archive holds nothing the site could not read
# itself, and links are archived as links, never followed. GNU tar exits 1
# when a file changed while it was read, which a live site does; the
# archive is complete all the same. Any other failure fails.
case $3 in "$2"/*/*) echo "$3 is not directly in $2" >&2; exit 2 ;; "$2"/?*) ;; *) echo "$3 is not in $2" >&2; exit 2 ;; esac
[ -d "$3" ] && [ ! -L "$3" ] || { echo "the site has no directory $3" >&2; exit 1; }
rc=0
runuser -u "$1" -- tar --create --file=- --directory="$2" --one-file-system \
	--warning=no-file-changed -- "${3##*/}" || rc=$?
[ "$rc" -le 1 ] || exit "$rc"
