#!/usr/bin/env bash
# Starts, inspects and stops the local "VPS" test hosts that integration tests
# provision over SSH. Each host hN gets its own network namespace chom-hN
# (reachable from this machine at 10.77.N.2 over a veth pair) plus its own
# mount, PID, UTS and IPC namespaces. Inside, overlays over /etc, /var, /srv,
# /opt and /usr keep the machine's packages visible while every write stays
# private to the host; /root and /home start empty; sshd, nginx, php-fpm and
# an empty MariaDB run as they would on a fresh server.
#
# usage:
#   testhosts.sh start                 start the hosts (no-op when they are up)
#   testhosts.sh stop                  kill the hosts and remove their state
#   testhosts.sh status                print the hosts; exit 0 only if all are up
#   testhosts.sh exec HOST -- CMD...   run CMD as root inside HOST (h1, h2, ...)
#   testhosts.sh stop-sshd HOST        make HOST unreachable over SSH
#   testhosts.sh start-sshd HOST       bring its sshd back
#
# environment:
#   CHOM_TESTHOSTS          number of hosts, 1..50 (default 2)
#   CHOM_TESTHOSTS_DIR      state directory (default /tmp/chom-testhosts)
#   CHOM_TESTHOSTS_TIMEOUT  seconds start waits for the services (default 90)
#   CHOM_TESTHOSTS_KEEP     1: stop keeps the state directory and its logs
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
count=${CHOM_TESTHOSTS:-2}
state=${CHOM_TESTHOSTS_DIR:-/tmp/chom-testhosts}
timeout=${CHOM_TESTHOSTS_TIMEOUT:-90}
keep=${CHOM_TESTHOSTS_KEEP:-0}
# Host n uses keytypes[(n-1) % 3] so that clients meet every key algorithm.
keytypes=(ed25519 rsa ecdsa)
# Directories hostinit.sh overlays or replaces; the state must live elsewhere
# because an overlay's upper dir may not sit inside its lower dir.
overlaid=(/etc /var /srv /home /root /opt /usr)
marker=.chom-testhosts
host_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
  printf 'testhosts: %s\n' "$*" >&2
  exit 1
}
note() { printf 'testhosts: %s\n' "$*" >&2; }

check_environment() {
  [ "$(id -u)" = 0 ] || die "must run as root (namespaces, mounts, veth)"
  if ! [[ $count =~ ^[0-9]{1,2}$ ]] || ((10#$count < 1 || 10#$count > 50)); then
    die "CHOM_TESTHOSTS must be a number from 1 to 50, got '$count'"
  fi
  count=$((10#$count))
  if ! [[ $timeout =~ ^[0-9]{1,5}$ ]] || ((10#$timeout < 1)); then
    die "CHOM_TESTHOSTS_TIMEOUT must be a positive number of seconds, got '$timeout'"
  fi
  timeout=$((10#$timeout))
  # The path ends up unescaped in hosts.json and ssh_config.
  [[ $state =~ ^/[A-Za-z0-9._/-]+$ ]] ||
    die "CHOM_TESTHOSTS_DIR must be an absolute path of [A-Za-z0-9._/-], got '$state'"
  state=$(realpath -m "$state")
  [ "$state" != / ] || die "CHOM_TESTHOSTS_DIR must not be /"
  local d
  for d in "${overlaid[@]}"; do
    case $state/ in "$d"/*) die "CHOM_TESTHOSTS_DIR must not be under $d: the hosts overlay it" ;; esac
  done
}

# lock serialises the commands that change hosts; exec and status do not
# wait. Processes that outlive this script must not inherit fd 9.
lock() {
  exec 9>"$state.lock"
  flock -w $((timeout + 60)) 9 || die "another testhosts.sh holds $state.lock"
}

host_number() {
  [[ ${1:-} =~ ^h([1-9][0-9]?)$ ]] || die "unknown host '${1:-}' (expected h1, h2, ...)"
  echo "${BASH_REMATCH[1]}"
}

keytype_of() { echo "${keytypes[($1 - 1) % ${#keytypes[@]}]}"; }

# init_pid prints the machine-side PID of host N's PID 1, or nothing.
init_pid() {
  local ns="chom-h$1" pid
  [ -e "/run/netns/$ns" ] || return 0
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    if awk '$1 == "NSpid:" && NF == 3 && $3 == 1 { found = 1 } END { exit !found }' \
      "/proc/$pid/status" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
  done
}

# enter_host N sets the array enter to the command prefix that runs a command
# as root inside host N, with the clean environment of a login.
enter_host() {
  local pid
  pid=$(init_pid "$1")
  [ -n "$pid" ] || die "h$1 is not running (testhosts.sh start)"
  enter=(nsenter --target "$pid" --mount --uts --ipc --net --pid --wdns=/root --
    env -i PATH="$host_path" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8)
}

in_host() {
  local enter
  enter_host "$1"
  shift
  "${enter[@]}" "$@"
}

ssh_probe() {
  ssh -F "$state/ssh_config" -o ConnectTimeout=3 "h$1" true </dev/null >/dev/null 2>&1
}

http_probe() {
  local code
  code=$(curl --noproxy '*' -s -o /dev/null -m 3 -w '%{http_code}' "http://10.77.$1.2/") || true
  [ -n "$code" ] && [ "$code" != 000 ]
}

# probe prints one word per service and succeeds only if all of them are up.
probe() {
  local n=$1 sshd=down nginx=down inside
  ssh_probe "$n" && sshd=up
  http_probe "$n" && nginx=up
  # shellcheck disable=SC2016 # expanded by the shell inside the host
  inside=$(in_host "$n" sh -c '
    p=down m=down
    [ -S /run/php/php8.2-fpm.sock ] && kill -0 "$(cat /run/php/php8.2-fpm.pid 2>/dev/null)" 2>/dev/null && p=up
    mariadb-admin --connect-timeout=2 --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1 && m=up
    echo "php-fpm=$p mariadb=$m"' 2>/dev/null) || inside="php-fpm=down mariadb=down"
  echo "sshd=$sshd nginx=$nginx $inside"
  [[ "sshd=$sshd nginx=$nginx $inside" != *down* ]]
}

show_logs() {
  local dir="$state/h$1" f
  for f in "$dir/init.log" "$dir"/upper/var/log/{sshd.log,nginx/error.log,php8.2-fpm.log,mysql/install-db.log,mysql/error.log}; do
    [ -s "$f" ] || continue
    printf -- '--- %s\n' "$f"
    tail -n 20 "$f"
  done >&2
}

running_count() { cat "$state/count" 2>/dev/null || echo 0; }

print_status() {
  local n total pid line rc=0
  total=$(running_count)
  if ((total == 0)); then
    line=$(existing_namespaces | tr '\n' ' ')
    echo "test hosts: stopped${line:+ (left over from an earlier run: ${line% }; start or stop removes them)}"
    return 3
  fi
  for ((n = 1; n <= total; n++)); do
    pid=$(init_pid "$n")
    if [ -z "$pid" ]; then
      printf 'h%-3s 10.77.%s.2  %-8s not running\n' "$n" "$n" "$(keytype_of "$n")"
      rc=1
      continue
    fi
    line=$(probe "$n") || rc=1
    printf 'h%-3s 10.77.%s.2  %-8s pid=%-7s %s\n' "$n" "$n" "$(keytype_of "$n")" "$pid" "$line"
  done
  echo "hosts file: $state/hosts.json"
  echo "shell:      ssh -F $state/ssh_config h1"
  return "$rc"
}

existing_namespaces() {
  ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E '^chom-h[0-9]+$' || true
}

existing_links() {
  ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
    grep -E '^chom-h[0-9]+$' || true
}

# kill_namespace ends every process that runs in one of our network
# namespaces. Killing the host's PID 1 alone would take its PID namespace
# down too, but a half-started host may not have one yet.
kill_namespace() {
  local ns=$1 pids i
  for ((i = 0; i < 100; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  [ -z "$pids" ] || die "processes in $ns survived SIGKILL: $pids"
  ip netns del "$ns"
}

# remove_all KEEP tears down every host of any earlier run, then deletes the
# state directory unless KEEP is 1.
remove_all() {
  local keep_state=$1 ns link
  for ns in $(existing_namespaces); do kill_namespace "$ns"; done
  for link in $(existing_links); do ip link del "$link" 2>/dev/null || true; done
  # Nothing is ever mounted under the state directory on this side; if
  # something is, deleting through it could reach the machine's files.
  if findmnt -rn -o TARGET | awk -v p="$state/" 'index($0, p) == 1 { f = 1 } END { exit !f }'; then
    die "something is mounted under $state; unmount it before cleaning up"
  fi
  if [ -d "$state" ] && [ "$keep_state" != 1 ]; then
    [ -e "$state/$marker" ] || [ -z "$(ls -A "$state")" ] ||
      die "$state exists but was not created by testhosts.sh; refusing to delete it"
    rm -rf --one-file-system "$state"
  fi
  rm -f "$state/count"
}

setup_network() {
  local n=$1 ns="chom-h$1"
  [ -z "$(ip route show "10.77.$n.0/24")" ] ||
    die "10.77.$n.0/24 is already routed on this machine: $(ip route show "10.77.$n.0/24")"
  ip netns add "$ns"
  ip link add "$ns" type veth peer name eth0 netns "$ns"
  ip addr add "10.77.$n.1/24" dev "$ns"
  ip link set "$ns" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "10.77.$n.2/24" dev eth0
  ip -n "$ns" link set eth0 up
}

generate_keys() {
  local n type dir bits
  ssh-keygen -q -t ed25519 -N '' -C chom-testhosts -f "$state/id_ed25519"
  for ((n = 1; n <= count; n++)); do
    type=$(keytype_of "$n")
    dir="$state/h$n"
    mkdir -p "$dir"
    case $type in rsa) bits=(-b 3072) ;; ecdsa) bits=(-b 256) ;; *) bits=() ;; esac
    ssh-keygen -q -t "$type" "${bits[@]}" -N '' -C '' -f "$dir/ssh_host_${type}_key"
    cp "$state/id_ed25519.pub" "$dir/authorized_keys"
  done
}

write_client_files() {
  local n type pub fp sep=''
  : >"$state/known_hosts.tmp"
  : >"$state/ssh_config.tmp"
  printf '[' >"$state/hosts.json.tmp"
  for ((n = 1; n <= count; n++)); do
    type=$(keytype_of "$n")
    pub=$(cut -d' ' -f1,2 "$state/h$n/ssh_host_${type}_key.pub")
    fp=$(ssh-keygen -l -E sha256 -f "$state/h$n/ssh_host_${type}_key.pub" | awk '{ print $2 }')
    echo "10.77.$n.2 $pub" >>"$state/known_hosts.tmp"
    cat >>"$state/ssh_config.tmp" <<EOF
Host h$n
  HostName 10.77.$n.2
  Port 22
  User root
  IdentityFile $state/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $state/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes

EOF
    printf '%s\n  {"name":"h%s","address":"10.77.%s.2","ssh_port":22,"user":"root","private_key_path":"%s","host_public_key":"%s","host_key_fingerprint":"%s","http_port":80}' \
      "$sep" "$n" "$n" "$state/id_ed25519" "$pub" "$fp" >>"$state/hosts.json.tmp"
    sep=,
  done
  printf '\n]\n' >>"$state/hosts.json.tmp"
  mv "$state/known_hosts.tmp" "$state/known_hosts"
  mv "$state/ssh_config.tmp" "$state/ssh_config"
  mv "$state/hosts.json.tmp" "$state/hosts.json"
}

launch_host() {
  local n=$1 dir="$state/h$1"
  # setsid detaches the host from the caller's session and terminal, so it
  # outlives this script; --kill-child takes PID 1 down with unshare.
  setsid ip netns exec "chom-h$n" \
    unshare --mount --pid --uts --ipc --fork --kill-child --mount-proc --propagation private \
    bash "$here/hostinit.sh" "$n" "$dir" "$(keytype_of "$n")" \
    </dev/null >"$dir/init.log" 2>&1 9>&- &
  echo $! >"$dir/launcher.pid"
}

wait_ready() {
  local deadline=$((SECONDS + timeout)) n pending
  local -A ready=()
  while :; do
    pending=0
    for ((n = 1; n <= count; n++)); do
      [ -n "${ready[$n]:-}" ] && continue
      if [ -z "$(init_pid "$n")" ]; then
        # Between unshare starting and its child appearing, only the
        # launcher exists; once it is gone too, the host has died.
        if ! kill -0 "$(cat "$state/h$n/launcher.pid")" 2>/dev/null; then
          show_logs "$n"
          die "h$n: its init process exited during start (logs above)"
        fi
        pending=1
      elif probe "$n" >/dev/null; then
        ready[$n]=1
      else
        pending=1
      fi
    done
    ((pending)) || return 0
    if ((SECONDS >= deadline)); then
      for ((n = 1; n <= count; n++)); do
        [ -n "${ready[$n]:-}" ] && continue
        note "h$n not ready after ${timeout}s: $(probe "$n" || true)"
        show_logs "$n"
      done
      die "test hosts did not become ready within ${timeout}s (CHOM_TESTHOSTS_TIMEOUT); they are left running for inspection"
    fi
    sleep 0.3
  done
}

cmd_start() {
  local n t0 out
  t0=$(date +%s.%N)
  lock
  if (($(running_count) == count)) && out=$(print_status 2>/dev/null); then
    echo "$out"
    return 0
  fi
  remove_all 0
  mkdir -p "$state"
  touch "$state/$marker"
  generate_keys
  write_client_files
  for ((n = 1; n <= count; n++)); do
    setup_network "$n"
    launch_host "$n"
  done
  echo "$count" >"$state/count"
  wait_ready
  print_status
  note "started $count hosts in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
}

cmd_stop() {
  lock
  remove_all "$keep"
  note "stopped"
}

cmd_exec() {
  local n
  n=$(host_number "${1:-}")
  shift
  [ "${1:-}" = -- ] && shift
  (($#)) || die "usage: testhosts.sh exec HOST -- CMD..."
  local enter
  enter_host "$n"
  exec "${enter[@]}" "$@"
}

sshd_pids() {
  local p
  for p in $(ip netns pids "chom-h$1" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] && echo "$p"
  done
  return 0
}

cmd_stop_sshd() {
  local n pids i
  n=$(host_number "${1:-}")
  lock
  [ -n "$(init_pid "$n")" ] || die "h$n is not running"
  # The listener and every session: open connections drop as on a host
  # that went away.
  for ((i = 0; i < 50; i++)); do
    pids=$(sshd_pids "$n")
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086 # one PID per word
    if ((i < 30)); then kill -TERM $pids 2>/dev/null || true; else kill -KILL $pids 2>/dev/null || true; fi
    sleep 0.1
  done
  [ -z "$pids" ] || die "h$n: sshd did not stop: $pids"
  note "h$n: sshd stopped"
}

cmd_start_sshd() {
  local n i out
  n=$(host_number "${1:-}")
  lock
  [ -n "$(init_pid "$n")" ] || die "h$n is not running"
  if ssh_probe "$n"; then
    note "h$n: sshd already running"
    return 0
  fi
  if [ -z "$(sshd_pids "$n")" ]; then
    out=$(in_host "$n" /usr/sbin/sshd -E /var/log/sshd.log 2>&1 </dev/null 9>&-) || die "h$n: sshd failed to start: $out"
  fi
  for ((i = 0; i < 100; i++)); do
    if ssh_probe "$n"; then
      note "h$n: sshd started"
      return 0
    fi
    sleep 0.1
  done
  show_logs "$n"
  die "h$n: sshd started but does not accept logins"
}

main() {
  check_environment
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) print_status ;;
    exec) cmd_exec "$@" ;;
    stop-sshd) cmd_stop_sshd "$@" ;;
    start-sshd) cmd_start_sshd "$@" ;;
    *) sed -n '/^# usage:/,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

main "$@"
