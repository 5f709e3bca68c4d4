#!/usr/bin/env bash
# PID 1 of one test host. testhosts.sh runs it inside fresh network, mount,
# PID, UTS and IPC namespaces; it builds the host's private view of the
# machine, starts the services a VPS would run and then only waits, so that
# killing it tears the whole host down.
#
# usage: hostinit.sh N STATE_DIR_OF_HOST HOST_KEY_TYPE
set -euo pipefail

# Everything below rewrites /etc and friends; outside its own namespaces it
# would rewrite the machine's.
if [ "$$" != 1 ]; then
  echo "hostinit.sh only runs as PID 1 of a test host; use testhosts.sh start" >&2
  exit 1
fi

n=$1
dir=$2
keytype=$3
name="chom-h$n"
address="10.77.$n.2"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf '%s hostinit[%s]: %s\n' "$(date +%T.%3N)" "$name" "$*"; }

# Overlays keep the machine's packages visible while every write (users,
# nginx sites, PHP pools, site files) lands in this host's upper dir.
for d in etc var srv opt usr; do
  [ -d "/$d" ] || continue
  mkdir -p "$dir/upper/$d" "$dir/work/$d"
  mount -t overlay "chom-$d" -o "lowerdir=/$d,upperdir=$dir/upper/$d,workdir=$dir/work/$d" "/$d"
done
[ "$(findmnt -n -o FSTYPE /etc)" = overlay ] || { say "/etc is not overlaid"; exit 1; }

# /root and /home start as on a fresh server: the machine's own dotfiles
# (shell start-up hooks, caches, credentials) have no place on a VPS, and
# start-up hooks would slow down every SSH command.
install -d -m 0700 "$dir/root"
install -d -m 0755 "$dir/home"
mount --bind "$dir/root" /root
mount --bind "$dir/home" /home
cp /usr/share/base-files/dot.bashrc /root/.bashrc
cp /usr/share/base-files/dot.profile /root/.profile

# The machine's own MariaDB keeps its datadir at /var/lib/mysql; the host
# gets an empty one on top so it can never open the live files.
install -d -o mysql -g mysql -m 0755 "$dir/mysql"
mount --bind "$dir/mysql" /var/lib/mysql
mountpoint -q /var/lib/mysql || { say "/var/lib/mysql is not a private mount"; exit 1; }

hostname "$name"
echo "$name" >/etc/hostname
cat >/etc/hosts <<EOF
127.0.0.1	localhost
127.0.1.1	$name
$address	$name
::1	localhost ip6-localhost ip6-loopback
EOF

# Only this host's key, never the machine's.
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
install -m 0600 "$dir/ssh_host_${keytype}_key" /etc/ssh/
install -m 0644 "$dir/ssh_host_${keytype}_key.pub" /etc/ssh/
rm -rf /root/.ssh
install -d -m 0700 /root/.ssh
install -m 0600 "$dir/authorized_keys" /root/.ssh/authorized_keys

# AuthorizedKeysFile stays relative to the home directory: for root that is
# /root/.ssh/authorized_keys, and users created by provisioning get the same
# convention as on a real server.
cat >/etc/ssh/sshd_config <<EOF
Include /etc/ssh/sshd_config.d/*.conf
ListenAddress $address
Port 22
HostKey /etc/ssh/ssh_host_${keytype}_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
# There is no syslog inside a host; the init script reads SSHD_OPTS too.
echo 'SSHD_OPTS="-E /var/log/sshd.log"' >/etc/default/ssh

# A machine whose MariaDB configuration was trimmed would hand the host a
# my.cnf without the include directories provisioning drops files into, and
# an init script that cannot restart the server; give the host the layout of
# a fresh Debian server instead.
if [ ! -e /etc/mysql/mariadb.conf.d/50-server.cnf ]; then
  install -d -m 0755 /etc/mysql/conf.d /etc/mysql/mariadb.conf.d
  rm -f /etc/mysql/my.cnf
  cat >/etc/mysql/my.cnf <<'CNF'
[client-server]
socket = /run/mysqld/mysqld.sock
!includedir /etc/mysql/conf.d/
!includedir /etc/mysql/mariadb.conf.d/
CNF
  cat >/etc/mysql/mariadb.conf.d/50-server.cnf <<'CNF'
[mariadbd]
user = mysql
pid-file = /run/mysqld/mysqld.pid
basedir = /usr
datadir = /var/lib/mysql
bind-address = 127.0.0.1
log-error = /var/log/mysql/error.log
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
CNF
fi
[ -e /etc/mysql/debian-start ] || printf '#!/bin/sh\nexit 0\n' >/etc/mysql/debian-start
chmod 0755 /etc/mysql/debian-start
# The Debian init script for MariaDB talks to the server through this file.
install -m 0600 /dev/null /etc/mysql/debian.cnf
printf '[client]\nuser = root\nsocket = /run/mysqld/mysqld.sock\n' >/etc/mysql/debian.cnf

install -m 0755 "$here/systemctl.sh" /usr/local/sbin/systemctl

# From here on $dir is hidden by the tmpfs on /tmp.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
install -d -m 1777 /run/lock
install -d -m 0755 /run/sshd /run/php
install -d -o mysql -g mysql -m 0755 /run/mysqld /var/log/mysql

say "starting sshd, php-fpm, nginx"
/usr/sbin/sshd -E /var/log/sshd.log
php-fpm8.2 --daemonize --fpm-config /etc/php/8.2/fpm/php-fpm.conf
nginx

say "initialising MariaDB"
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
  --auth-root-authentication-method=socket >/var/log/mysql/install-db.log 2>&1 ||
  { tail -n 20 /var/log/mysql/install-db.log; exit 1; }
# The paths are repeated on the command line so that no configuration file
# on the machine can point this server at the machine's own data.
mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
  --pid-file=/run/mysqld/mysqld.pid --bind-address=127.0.0.1 --port=3306 \
  --log-error=/var/log/mysql/error.log \
  </dev/null >/dev/null 2>&1 &

say "services started"
trap 'exit 0' TERM INT
while :; do
  sleep infinity &
  wait $! || true
done
