#!/usr/bin/env bash
# Terraform and OpenTofu through the provider on both test hosts: apply of
# 50 html sites, a plan with no changes, and their destroy, each wall time
# beside the server-side durations of the operations it started (or, for
# the plan, the same reads through the API alone), measured in the same
# run. Needs the test hosts up (bash scripts/testhosts/testhosts.sh start).
# CHOM_BENCH_SITES sets the number of sites (default 50).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
tools=${TOOLS:-$HOME/.cache/chom/tools}
export TF_ACC=1 CHOM_INTEGRATION=1 CHOM_BENCH=1
export TF_CLI_CONFIG_FILE=$PWD/provider/internal/acctest/testdata/terraformrc
status=0
for cli in "$tools/terraform" "$tools/tofu"; do
	if [ ! -x "$cli" ]; then
		echo "skipping $cli: not installed" >&2
		continue
	fi
	if ! out=$(TF_ACC_TERRAFORM_PATH=$cli go test -count=1 -timeout 60m -run '^TestBenchProvider$' -v ./provider/internal/acctest/ 2>&1); then
		printf '%s\n' "$out" >&2
		status=1
		continue
	fi
	printf '%s\n' "$out" | grep -E '^(provider benchmark|apply:|plan:|destroy:)'
done
exit $status
