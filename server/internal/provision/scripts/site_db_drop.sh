# Drops the database $1 and its user $2@localhost; either may be gone.
# Names are [a-z0-9] only (checked again here), so none needs quoting.
db_query() { if command -v mariadb >/dev/null 2>&1; then mariadb -N -B; else mysql -N -B; fi; }
case $1$2 in '' | *[!a-z0-9]*) echo "invalid database or user name" >&2; exit 2 ;; esac
bq='`'
db_query <<SQL
DROP DATABASE IF EXISTS $bq$1$bq;
DROP USER IF EXISTS '$2'@'localhost';
SQL
