#!/usr/bin/env bash
# What `make bench` runs. Builds the control plane, the provider and
# chom-bench; makes sure PostgreSQL, Redis (.ci/services.sh) and the VPS
# test hosts are up; then prints one table on stdout, every figure beside
# a baseline measured in the same run. Progress goes to stderr. Needs root
# for the test hosts. Arguments go to chom-bench, for example
#   bash scripts/bench/run.sh -sections api-sqlite -duration 10s
# (bin/chom-bench -h lists them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PATH="$HOME/.cache/chom/tools:/usr/local/go/bin:$PATH"
bin=${BIN:-bin}

{
  go build -o "$bin/chom-server" ./server
  go build -o "$bin/terraform-provider-chom" ./provider
  go build -o "$bin/chom-bench" ./server/cmd/chom-bench
  bash .ci/services.sh
  bash scripts/testhosts/testhosts.sh start
} >&2

exec "$bin/chom-bench" -server "$bin/chom-server" "$@"
