# Replaces the application directory $3 (directly in the home $2) of the
# site user $1 with the directory of the same name in the tar read from
# stdin. Everything runs as the site user, so nothing in the archive or the
# home can reach another user's files. The archive goes to a staging
# directory first and is swapped in only once it extracted completely: a
# restore cut short leaves the site as it was, and running it again starts
# over. The files named by the remaining arguments (the
# configuration CHOM writes, with the site's own database credentials) are
# kept from the directory being replaced, never taken from the archive, so
# a backup restored into another site keeps that site's settings.
case $3 in "$2"/*/*) echo "$3 is not directly in $2" >&2; exit 2 ;; "$2"/?*) ;; *) echo "$3 is not in $2" >&2; exit 2 ;; esac
user=$1
shift
runuser -u "$user" -- sh -c '
set -eu
home=$1 app=$2
shift 2
name=${app##*/}
stage=$home/.chom-restore
old=$home/.chom-replaced
# A restore killed between its two renames left the site without its
# directory: put the previous one back before starting over.
if [ ! -e "$app" ] && [ -d "$old" ]; then mv -- "$old" "$app"; fi
rm -rf -- "$stage" "$old"
mkdir -m 0700 -- "$stage"
tar --extract --file=- --directory="$stage" --preserve-permissions --no-same-owner -- "$name"
if [ ! -d "$stage/$name" ] || [ -L "$stage/$name" ]; then
	echo "the archive holds no directory $name" >&2
	exit 1
fi
for f in "$@"; do
	rm -f -- "$stage/$name/$f"
	if [ -f "$app/$f" ] && [ ! -L "$app/$f" ]; then cp -p -- "$app/$f" "$stage/$name/$f"; fi
done
if [ -e "$app" ] || [ -L "$app" ]; then mv -- "$app" "$old"; fi
mv -- "$stage/$name" "$app"
rm -rf -- "$old" "$stage"
' sh "$@"
