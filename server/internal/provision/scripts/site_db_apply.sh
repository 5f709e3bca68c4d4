# Creates the database $1 and its user $2@localhost with the password read
# from stdin and every privilege on it; an existing user gets the password.
# Names are [a-z0-9] only and the password is alphanumeric (checked again
# here), so none needs quoting in SQL; the password travels on stdin.
db_query() { if command -v mariadb >/dev/null 2>&1; then mariadb -N -B; else mysql -N -B; fi; }
case $1$2 in '' | *[!a-z0-9]*) echo "invalid database or user name" >&2; exit 2 ;; esac
pw=$(cat)
case $pw in '' | *[!A-Za-z0-9]*) echo "invalid password" >&2; exit 2 ;; esac
bq='`'
db_query <<SQL
CREATE DATABASE IF NOT EXISTS $bq$1$bq CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$2'@'localhost' IDENTIFIED BY '$pw';
ALTER USER '$2'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON $bq$1$bq.* TO '$2'@'localhost';
SQL
