# Clones the repository $4 at the branch $5 (its default branch when empty)
# as the site user $1, whose home is $2, into a new directory, then puts it
# in place of $3. Only the transports CHOM accepts are allowed, and git
# never prompts.
runuser -u "$1" -- env HOME="$2" GIT_TERMINAL_PROMPT=0 GIT_ALLOW_PROTOCOL=https:http:ssh:git:file sh -c '
set -eu
app=$1 url=$2 branch=$3
new=$app.chom-clone old=$app.chom-old
rm -rf "$new" "$old"
if [ -n "$branch" ]; then
	git clone --quiet --depth 1 --branch "$branch" -- "$url" "$new"
else
	git clone --quiet --depth 1 -- "$url" "$new"
fi
if [ -e "$app" ]; then mv "$app" "$old"; fi
mv "$new" "$app"
rm -rf "$old"' sh "$3" "$4" "$5"
