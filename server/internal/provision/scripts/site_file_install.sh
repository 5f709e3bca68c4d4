# Installs stdin as the file $1 with mode $2, owner $3 and group $4, but only
# once its SHA-256 is $5: a payload cut short never replaces the file.
# Readers see the old file or the new one, never a mix. A file of a site
# user is written by that user, so that nothing the user placed in its own
# directories (a symbolic link, say) can turn the write against another
# file.
write='set -eu
dst=$1 mode=$2 group=$3 sum=$4
umask 077
tmp=$(mktemp "$dst.chom-XXXXXX")
trap '\''rm -f "$tmp"'\'' EXIT
cat > "$tmp"
if [ "$(sha256sum < "$tmp" | cut -d " " -f 1)" != "$sum" ]; then
	echo "the content of $dst arrived incomplete" >&2
	exit 1
fi
chgrp "$group" "$tmp"
chmod "$mode" "$tmp"
mv -f "$tmp" "$dst"
trap - EXIT'
if [ "$3" = root ]; then
	sh -c "$write" sh "$1" "$2" "$4" "$5"
else
	runuser -u "$3" -g "$4" -- sh -c "$write" sh "$1" "$2" "$4" "$5"
fi
