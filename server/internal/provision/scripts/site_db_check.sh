# Succeeds when the database $1 exists and its user $2@localhost has every
# privilege on it and the password read from stdin.
# Names are [a-z0-9] only and the password is alphanumeric (checked again
# here), so none needs quoting in SQL; the password travels on stdin.
db_query() { if command -v mariadb >/dev/null 2>&1; then mariadb -N -B; else mysql -N -B; fi; }
case $1$2 in '' | *[!a-z0-9]*) echo "invalid database or user name" >&2; exit 2 ;; esac
pw=$(cat)
case $pw in '' | *[!A-Za-z0-9]*) echo "invalid password" >&2; exit 2 ;; esac
n=$(db_query <<SQL
SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1')
     + (SELECT COUNT(*) FROM mysql.user WHERE User = '$2' AND Host = 'localhost' AND authentication_string = PASSWORD('$pw'))
     + (SELECT COUNT(*) FROM mysql.db WHERE Db = '$1' AND User = '$2' AND Host = 'localhost');
SQL
)
[ "$n" = 3 ]
