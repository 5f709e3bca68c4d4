# Prepended to every CHOM script. It is the one place that knows how to
# drive services, so that the same scripts work under systemd and on
# servers that run the Debian init scripts.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C

has_systemd() {
	[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# svc ACTION UNIT: ACTION is start, stop, restart, reload, status, enable
# or enabled; status and enabled answer with their exit status only.
svc() {
	if has_systemd; then
		case $1 in
		status) systemctl is-active --quiet "$2" ;;
		enabled) systemctl is-enabled --quiet "$2" ;;
		enable) systemctl enable --quiet "$2" ;;
		*) systemctl "$1" "$2" ;;
		esac
	elif [ -x "/etc/init.d/$2" ]; then
		case $1 in
		status) "/etc/init.d/$2" status >/dev/null 2>&1 ;;
		# Without update-rc.d nothing records boot-time services.
		enabled) ! command -v update-rc.d >/dev/null 2>&1 || ls /etc/rc[2345].d/S[0-9][0-9]"$2" >/dev/null 2>&1 ;;
		enable) ! command -v update-rc.d >/dev/null 2>&1 || update-rc.d "$2" defaults >/dev/null ;;
		*) "/etc/init.d/$2" "$1" ;;
		esac
	else
		echo "no service manager knows the service $2" >&2
		return 1
	fi
}

svc_exists() {
	if has_systemd; then
		systemctl cat "$1.service" >/dev/null 2>&1
	else
		[ -x "/etc/init.d/$1" ]
	fi
}

# units SERVICE prints the units behind nginx, php-fpm (one per installed
# PHP version) or database.
units() {
	case $1 in
	nginx) echo nginx ;;
	php-fpm)
		for bin in /usr/sbin/php-fpm[0-9]*; do
			if [ -x "$bin" ]; then echo "php${bin#/usr/sbin/php-fpm}-fpm"; fi
		done
		;;
	database)
		if svc_exists mariadb; then echo mariadb; else echo mysql; fi
		;;
	*)
		echo "unknown service $1" >&2
		return 1
		;;
	esac
}

# nginx_lock serialises changes to nginx's configuration on this server
# for the rest of the script: nginx -t reads every file under chom.d, so
# one operation's check must never see another's file half-way in or out.
# A lock on the server itself holds across control-plane replicas.
nginx_lock() {
	mkdir -p /run/lock
	exec 9>/run/lock/chom-nginx.lock
	if ! flock -w 300 9; then
		echo "another change to nginx on this server did not finish within 5 minutes" >&2
		return 1
	fi
}

# nginx_check prints nginx's verdict on its configuration when it rejects it.
nginx_check() {
	if ! out=$(nginx -t 2>&1); then
		printf 'nginx rejected the configuration:\n%s\n' "$out" >&2
		return 1
	fi
}

