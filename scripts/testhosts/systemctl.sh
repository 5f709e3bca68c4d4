#!/bin/sh
# Installed as /usr/local/sbin/systemctl inside each test host. The hosts run
# no systemd, but provisioning code is written for real servers and manages
# services with systemctl; the common verbs are mapped onto the Debian init
# scripts, which drive the same pid files the host started its daemons with.
set -eu

verb=
now=
units=
for arg in "$@"; do
  case $arg in
    --now) now=1 ;;
    -*) ;;
    *) if [ -z "$verb" ]; then verb=$arg; else units="$units $arg"; fi ;;
  esac
done

script_for() {
  unit=${1%.service}
  case $unit in
    sshd) unit=ssh ;;
    mysql | mysqld) unit=mariadb ;;
  esac
  if [ ! -x "/etc/init.d/$unit" ]; then
    echo "systemctl: unit $1 not found on this test host" >&2
    exit 5
  fi
  echo "/etc/init.d/$unit"
}

status=0
case $verb in
  start | stop | restart | reload | force-reload | try-restart | status)
    for u in $units; do "$(script_for "$u")" "$verb" || status=$?; done ;;
  reload-or-restart | try-reload-or-restart)
    for u in $units; do
      s=$(script_for "$u")
      "$s" reload || "$s" restart || status=$?
    done ;;
  is-active)
    for u in $units; do
      if "$(script_for "$u")" status >/dev/null 2>&1; then echo active; else echo inactive; status=3; fi
    done ;;
  enable | disable)
    for u in $units; do
      script_for "$u" >/dev/null
      [ -z "$now" ] && continue
      if [ "$verb" = enable ]; then "$(script_for "$u")" start || status=$?; else "$(script_for "$u")" stop || status=$?; fi
    done ;;
  is-enabled)
    for u in $units; do script_for "$u" >/dev/null; echo enabled; done ;;
  daemon-reload | daemon-reexec | mask | unmask | reset-failed) ;;
  *)
    echo "systemctl: '$verb' is not supported on test hosts" >&2
    exit 1 ;;
esac
exit "$status"
