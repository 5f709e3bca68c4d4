package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// tfRun is one CLI's figures from the provider's benchmark: wall times
// beside the server's own time for the same work.
type tfRun struct {
	CLI   string
	Sites int
	// Apply and Destroy are wall times; ApplyOps and DestroyOps the sums
	// of the server-side durations of the operations they started.
	Apply, ApplyOps, Destroy, DestroyOps time.Duration
	// Plan is the wall time of a plan with no changes; Reads the time the
	// same reads (ReadCount of them) take through the API alone.
	Plan, Reads time.Duration
	ReadCount   int
}

var (
	tfHeader = regexp.MustCompile(`^provider benchmark, (\S+), (\d+) html sites`)
	tfOps    = regexp.MustCompile(`^(apply|destroy):\s+wall\s+(\S+)\s+\d+ \S+ operations: server-side sum (\S+),`)
	tfPlan   = regexp.MustCompile(`^plan:\s+wall\s+(\S+)\s+no changes; the same (\d+) reads through the API alone: (\S+)`)
)

// benchTerraform runs the provider's benchmark, scripts/bench/provider.sh
// (Terraform, then OpenTofu, through the built provider on both test
// hosts), and reads the figures it prints.
func benchTerraform(ctx context.Context, o options) ([]tfRun, error) {
	progress("terraform: scripts/bench/provider.sh with %d sites", o.tfSites)
	cmd := exec.CommandContext(ctx, "bash", "scripts/bench/provider.sh")
	cmd.Env = append(os.Environ(), "CHOM_BENCH_SITES="+strconv.Itoa(o.tfSites))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/bench/provider.sh: %w\n%s", err, lastLines(stderr.Bytes(), 30))
	}
	var runs []tfRun
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := tfHeader.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			runs = append(runs, tfRun{CLI: m[1], Sites: n})
			continue
		}
		if len(runs) == 0 {
			continue
		}
		r := &runs[len(runs)-1]
		if m := tfOps.FindStringSubmatch(line); m != nil {
			wall, err1 := time.ParseDuration(m[2])
			ops, err2 := time.ParseDuration(m[3])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("provider benchmark line %q: %w", line, errors.Join(err1, err2))
			}
			if m[1] == "apply" {
				r.Apply, r.ApplyOps = wall, ops
			} else {
				r.Destroy, r.DestroyOps = wall, ops
			}
		}
		if m := tfPlan.FindStringSubmatch(line); m != nil {
			wall, err1 := time.ParseDuration(m[1])
			reads, err2 := time.ParseDuration(m[3])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("provider benchmark line %q: %w", line, errors.Join(err1, err2))
			}
			r.Plan, r.Reads = wall, reads
			r.ReadCount, _ = strconv.Atoi(m[2])
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("scripts/bench/provider.sh printed no figures:\n%s", out)
	}
	return runs, nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func (t *table) terraform(runs []tfRun, err error) {
	if err != nil {
		t.failed("terraform plan / apply", err)
		return
	}
	for _, r := range runs {
		t.add(row{
			Measure: fmt.Sprintf("%s apply, %d html sites over 2 hosts: wall vs the create operations' server-side sum", r.CLI, r.Sites),
			CHOM:    ms(r.Apply), Baseline: ms(r.ApplyOps),
			Ratio: fmt.Sprintf("%.2f×", r.Apply.Seconds()/r.ApplyOps.Seconds()), Target: "(reported)", Result: "-",
		})
		t.add(row{
			Measure: fmt.Sprintf("%s plan, %d sites, no changes: wall vs the same %d reads through the API", r.CLI, r.Sites, r.ReadCount),
			CHOM:    ms(r.Plan), Baseline: ms(r.Reads),
			Ratio: fmt.Sprintf("%.1f×", r.Plan.Seconds()/r.Reads.Seconds()), Target: "(reported)", Result: "-",
		})
		t.add(row{
			Measure: fmt.Sprintf("%s destroy, %d sites: wall vs the delete operations' server-side sum", r.CLI, r.Sites),
			CHOM:    ms(r.Destroy), Baseline: ms(r.DestroyOps),
			Ratio: fmt.Sprintf("%.2f×", r.Destroy.Seconds()/r.DestroyOps.Seconds()), Target: "(reported)", Result: "-",
		})
	}
}
