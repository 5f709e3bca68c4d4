package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// benchBackup runs the backup package's own benchmark, through
// scripts/bench/backup.sh, and returns the metrics it reported.
func benchBackup(ctx context.Context, o options) (map[string]float64, error) {
	progress("backup: scripts/bench/backup.sh (BENCHTIME=%s)", o.backupTime)
	cmd := exec.CommandContext(ctx, "bash", "scripts/bench/backup.sh")
	cmd.Env = append(os.Environ(), "BENCHTIME="+o.backupTime)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/bench/backup.sh: %w\n%s%s", err, out, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.HasPrefix(fields[0], "BenchmarkBackupThroughput") {
			continue
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				m[fields[i+1]] = v
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("scripts/bench/backup.sh printed no benchmark line:\n%s", out)
}

func (t *table) backup(m map[string]float64, err error) {
	if err != nil {
		t.failed("backup and restore", err)
		return
	}
	t.add(row{
		Measure: fmt.Sprintf("backup of a %.0f MB site (stored %.0f MB, encrypted, verified)", m["site_MB"], m["stored_MB"]),
		CHOM:    fmt.Sprintf("%.1f MB/s", m["backup_MB/s"]), Baseline: fmt.Sprintf("%.1f MB/s (tar \\| ssh \\| cat)", m["tar_ssh_cat_MB/s"]),
		Ratio: fmt.Sprintf("%.2f×", m["backup_ratio"]), Target: "(reported)", Result: "-",
	})
	t.add(row{
		Measure: fmt.Sprintf("restore of the same %.0f MB site (verified, swapped in)", m["site_MB"]),
		CHOM:    fmt.Sprintf("%.1f MB/s", m["restore_MB/s"]), Baseline: fmt.Sprintf("%.1f MB/s (cat \\| ssh \\| tar -x)", m["cat_ssh_tar_MB/s"]),
		Ratio: fmt.Sprintf("%.2f×", m["restore_ratio"]), Target: "(reported)", Result: "-",
	})
}
