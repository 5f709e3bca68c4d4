#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine: the packages the
# VPS test hosts run (OpenSSH, nginx, PHP-FPM, MariaDB, WordPress, Composer)
# and the CLIs the acceptance tests drive (Terraform, OpenTofu, Pebble),
# built from the Go module proxy and cached outside the checkout.
set -euo pipefail

CACHE="${CHOM_TOOLS_DIR:-$HOME/.cache/chom/tools}"
mkdir -p "$CACHE"

packages=(
  openssh-server nginx-light php8.2-fpm php8.2-cli php8.2-mysql php8.2-xml
  php8.2-mbstring php8.2-curl php8.2-zip php8.2-sqlite3 mariadb-server
  mariadb-client wordpress composer git curl iproute2 util-linux procps
  ca-certificates openssl rsync
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packages' own services from starting: the test
  # hosts start their own instances.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

build_terraform() {
  [ -x "$CACHE/terraform" ] && "$CACHE/terraform" version 2>/dev/null | grep -q 'v1.5.7' && return
  GOBIN="$CACHE" GOFLAGS=-mod=mod go install github.com/hashicorp/terraform@v1.5.7
}

build_tofu() {
  [ -x "$CACHE/tofu" ] && "$CACHE/tofu" version 2>/dev/null | grep -q 'v1.12.6' && return
  local dir
  dir=$(go mod download -json github.com/opentofu/opentofu@v1.12.6 | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  (cd "$dir" && GOFLAGS=-mod=mod go build -o "$CACHE/tofu.tmp" ./cmd/tofu) && mv "$CACHE/tofu.tmp" "$CACHE/tofu"
}

build_pebble() {
  [ -x "$CACHE/pebble" ] && [ -x "$CACHE/pebble-challtestsrv" ] && return
  GOBIN="$CACHE" go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.1 \
    github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@v2.10.1
}

build_golangci_lint() {
  [ -x "$CACHE/golangci-lint" ] && "$CACHE/golangci-lint" version 2>/dev/null | grep -q '2.15.0' && return
  GOBIN="$CACHE" go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
}

build_terraform
build_tofu
build_pebble
build_golangci_lint
echo "tools in $CACHE: $(ls "$CACHE" | tr '\n' ' ')"
