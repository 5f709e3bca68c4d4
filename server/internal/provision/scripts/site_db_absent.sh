# Succeeds when neither the database $1 nor the user $2@localhost exists.
# Names are [a-z0-9] only (checked again here), so none needs quoting.
db_query() { if command -v mariadb >/dev/null 2>&1; then mariadb -N -B; else mysql -N -B; fi; }
case $1$2 in '' | *[!a-z0-9]*) echo "invalid database or user name" >&2; exit 2 ;; esac
n=$(db_query <<SQL
SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1')
     + (SELECT COUNT(*) FROM mysql.user WHERE User = '$2');
SQL
)
[ "$n" = 0 ]
