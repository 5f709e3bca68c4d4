# Writes to stdout a gzip-compressed, consistent dump of the database $1:
# one transaction (--single-transaction) with its routines and triggers.
# A dump that fails half-way fails the script, though gzip has already
# passed on what the dump wrote, so a truncated dump is never taken for a
# complete one. The name is [a-z0-9] only.
case $1 in '' | *[!a-z0-9]*) echo "invalid database name" >&2; exit 2 ;; esac
dump() { if command -v mariadb-dump >/dev/null 2>&1; then mariadb-dump "$@"; else mysqldump "$@"; fi; }
failed=$(mktemp)
trap 'rm -f "$failed"' EXIT
{ dump --single-transaction --routines --triggers --hex-blob --default-character-set=utf8mb4 "$1" || echo "$?" >"$failed"; } | gzip -1
if [ -s "$failed" ]; then
	echo "the dump of the database $1 failed" >&2
	exit 1
fi
