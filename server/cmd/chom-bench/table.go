package main

import (
	"fmt"
	"strings"
	"time"
)

// row is one line of the report: a figure of CHOM's beside its baseline.
type row struct {
	Measure, CHOM, Baseline, Ratio, Target, Result string
}

type table struct {
	rows  []row
	notes []string
}

func (t *table) add(r row) { t.rows = append(t.rows, r) }

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

func (t *table) failed(section string, err error) {
	t.add(row{Measure: section, CHOM: "error", Result: "ERROR"})
	t.note("%s: %v", section, err)
	progress("%s: %v", section, err)
}

// verdict is PASS when ok, MISS otherwise.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (t *table) api(f *apiFigures, err error) {
	if err != nil {
		t.failed("API reads", err)
		return
	}
	db := map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[string(f.Dialect)]
	for _, c := range []struct {
		name       string
		full, bare loadResult
	}{
		{"GET /sites/{id}", f.Get, f.GetBare},
		{"GET /sites?limit=50", f.List, f.ListBare},
	} {
		tp := c.full.throughput() / c.bare.throughput()
		t.add(row{
			Measure: fmt.Sprintf("%s throughput, %s", c.name, db),
			CHOM:    fmt.Sprintf("%.0f req/s", c.full.throughput()), Baseline: fmt.Sprintf("%.0f req/s", c.bare.throughput()),
			Ratio: fmt.Sprintf("%.2f×", tp), Target: "≥ 0.6×", Result: verdict(tp >= 0.6),
		})
		p50 := float64(c.full.OK.percentile(50)) / float64(c.bare.OK.percentile(50))
		t.add(row{
			Measure: fmt.Sprintf("%s p50, %s", c.name, db),
			CHOM:    ms(c.full.OK.percentile(50)), Baseline: ms(c.bare.OK.percentile(50)),
			Ratio: fmt.Sprintf("%.2f×", p50), Target: "(reported)", Result: "-",
		})
		p99 := float64(c.full.OK.percentile(99)) / float64(c.bare.OK.percentile(99))
		t.add(row{
			Measure: fmt.Sprintf("%s p99, %s", c.name, db),
			CHOM:    ms(c.full.OK.percentile(99)), Baseline: ms(c.bare.OK.percentile(99)),
			Ratio: fmt.Sprintf("%.2f×", p99), Target: "≤ 1.5×", Result: verdict(p99 <= 1.5),
		})
		if c.full.CPU > 0 && c.bare.CPU > 0 {
			cpu := float64(c.full.cpuPerRequest()) / float64(c.bare.cpuPerRequest())
			t.add(row{
				Measure: fmt.Sprintf("%s server CPU per request, %s", c.name, db),
				CHOM:    us(c.full.cpuPerRequest()), Baseline: us(c.bare.cpuPerRequest()),
				Ratio: fmt.Sprintf("%.2f×", cpu), Target: "(reported)", Result: "-",
			})
		}
		for side, r := range map[string]loadResult{"CHOM": c.full, "baseline": c.bare} {
			if r.Failed > 0 {
				t.note("%s %s (%s): %d of %d requests failed, first: %s", c.name, db, side, r.Failed, r.Failed+len(r.OK), r.FirstFail)
			}
		}
	}
	ratio := float64(f.AcceptPost.percentile(50)) / float64(f.AcceptGet.percentile(50))
	t.add(row{
		Measure: "POST /sites accepted (202) p50 vs GET /sites/{id} p50, " + db,
		CHOM:    ms(f.AcceptPost.percentile(50)), Baseline: ms(f.AcceptGet.percentile(50)),
		Ratio: fmt.Sprintf("%.2f×", ratio), Target: "≤ 5×", Result: verdict(ratio <= 5),
	})
	t.add(row{
		Measure: fmt.Sprintf("server VmRSS with %d sites, after the load, %s", f.Sites, db),
		CHOM:    mib(f.RSS), Baseline: mib(f.BareRSS) + " (baseline process)",
		Ratio: "-", Target: "≤ 100 MB", Result: verdict(f.RSS <= 100_000_000),
	})
}

func (t *table) render(o options, took time.Duration) string {
	var b strings.Builder
	b.WriteString(header(o, took))
	b.WriteString("\n")
	cols := []string{"Measure", "CHOM", "Baseline (same run)", "Ratio", "Target", "Result"}
	width := make([]int, len(cols))
	cells := func(r row) []string { return []string{r.Measure, r.CHOM, r.Baseline, r.Ratio, r.Target, r.Result} }
	for i, c := range cols {
		width[i] = len([]rune(c))
	}
	for _, r := range t.rows {
		for i, c := range cells(r) {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(vals []string) {
		b.WriteString("|")
		for i, v := range vals {
			b.WriteString(" " + v + strings.Repeat(" ", width[i]-len([]rune(v))) + " |")
		}
		b.WriteString("\n")
	}
	line(cols)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range t.rows {
		line(cells(r))
	}
	for _, n := range t.notes {
		b.WriteString("\n- " + n)
	}
	if len(t.notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}
