# Writes to stdout a consistent dump of the database $1: one transaction
# (--single-transaction) with its routines and triggers, naming no
# database, so that it loads into any. The name is [a-z0-9] only.
case $1 in '' | *[!a-z0-9]*) echo "invalid database name" >&2; exit 2 ;; esac
if command -v mariadb-dump >/dev/null 2>&1; then dump=mariadb-dump; else dump=mysqldump; fi
exec "$dump" --single-transaction --routines --triggers --hex-blob --default-character-set=utf8mb4 "$1"
