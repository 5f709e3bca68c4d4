# Replaces the content of the existing database $1 with the dump read from
# stdin. Its tables and views are dropped first, so that tables created
# after the backup do not survive the restore; running it again with the
# same dump gives the same database. The name is [a-z0-9]
# only, so it needs no quoting in SQL.
case $1 in '' | *[!a-z0-9]*) echo "invalid database name" >&2; exit 2 ;; esac
client() { if command -v mariadb >/dev/null 2>&1; then mariadb "$@"; else mysql "$@"; fi; }
exists=$(client -N -B -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$1'")
if [ "$exists" != 1 ]; then
	echo "the database $1 does not exist" >&2
	exit 1
fi
drops=$(client -N -B -r -e "SELECT CONCAT(IF(table_type = 'VIEW', 'DROP VIEW IF EXISTS ', 'DROP TABLE IF EXISTS '), '\`', REPLACE(table_name, '\`', '\`\`'), '\`;') FROM information_schema.tables WHERE table_schema = '$1'")
printf 'SET FOREIGN_KEY_CHECKS = 0;\n%s\n' "$drops" | client "$1"
client "$1"
