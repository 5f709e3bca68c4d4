#!/usr/bin/env bash
# Backup and restore throughput of a ~100 MB site on the first test host,
# each beside OpenSSH's `tar | ssh | cat` (and `cat | ssh | tar -x`) of the
# same files, measured in the same run. Needs the test hosts up
# (bash scripts/testhosts/testhosts.sh start). BENCHTIME sets the
# iterations (default 3x).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=$(CHOM_INTEGRATION=1 go test -run '^$' -bench '^BenchmarkBackupThroughput$' \
	-benchtime "${BENCHTIME:-3x}" ./server/internal/backup/)
printf '%s\n' "$out"
printf '%s\n' "$out" | awk '/^BenchmarkBackupThroughput/ {
	for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i
	printf "site: %s MB, stored encrypted: %s MB\n", m["site_MB"], m["stored_MB"]
	printf "backup:  %7.1f MB/s  (tar | ssh | cat: %7.1f MB/s)  ratio %.2f\n", m["backup_MB/s"], m["tar_ssh_cat_MB/s"], m["backup_ratio"]
	printf "restore: %7.1f MB/s  (cat | ssh | tar: %7.1f MB/s)  ratio %.2f\n", m["restore_MB/s"], m["cat_ssh_tar_MB/s"], m["restore_ratio"]
}'
