#!/usr/bin/env bash
# Starts PostgreSQL, MariaDB and Redis when they are not already answering.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! up 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! up 6379; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! up 3306; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for port in 5432 6379 3306; do
  for _ in $(seq 1 60); do up "$port" && break; sleep 0.5; done
  up "$port" || { echo "service on port $port did not start" >&2; exit 1; }
done
echo "postgres, redis and mariadb are up"
