// Command chom-bench measures the control plane against baselines taken in
// the same run and prints one table: API reads at scale through the full
// middleware stack beside a bare net/http + database/sql handler, the
// create's accept latency, pooled against fresh SSH commands, a static
// site's time to its first page, backup and restore throughput beside
// tar over ssh, Terraform wall time beside the operations' own durations,
// and the server's resident memory. `make bench` (scripts/bench/run.sh)
// builds everything, starts what it needs and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/chomhq/chom/server/internal/store"
)

type options struct {
	serverBin, postgresURL      string
	sections                    map[string]bool
	clients, rounds             int
	duration, warmup            time.Duration
	tenants, sitesEach, accepts int
	htmlSites, tfSites          int
	backupTime                  string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare-serve" {
		if err := bareServe(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bare-serve:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var sections string
	flag.StringVar(&o.serverBin, "server", "bin/chom-server", "the chom-server binary to measure")
	flag.StringVar(&o.postgresURL, "postgres-url", envOr("CHOM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"PostgreSQL server for the scratch database (a URL naming the database /test)")
	flag.StringVar(&sections, "sections", "api-sqlite,api-postgres,ssh,html,backup,terraform", "comma-separated sections to run")
	flag.IntVar(&o.clients, "clients", 8, "concurrent keep-alive clients of the API load")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of one load run against one side")
	flag.IntVar(&o.rounds, "rounds", 2, "alternating rounds per side; the figures merge them")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before measuring, per side")
	flag.IntVar(&o.tenants, "tenants", 100, "organizations seeded")
	flag.IntVar(&o.sitesEach, "sites", 100, "sites seeded per organization")
	flag.IntVar(&o.accepts, "accepts", 200, "site creations timed for the accept latency")
	flag.IntVar(&o.htmlSites, "html-sites", 10, "static sites timed to their first page")
	flag.IntVar(&o.tfSites, "tf-sites", 50, "sites in the Terraform configuration (scripts/bench/provider.sh)")
	flag.StringVar(&o.backupTime, "backup-benchtime", "2x", "iterations of the backup benchmark (scripts/bench/backup.sh)")
	flag.Parse()
	o.sections = map[string]bool{}
	for _, s := range strings.Split(sections, ",") {
		o.sections[strings.TrimSpace(s)] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	var t table
	if o.sections["api-sqlite"] {
		t.api(benchAPI(ctx, o, store.SQLite))
	}
	if o.sections["api-postgres"] {
		t.api(benchAPI(ctx, o, store.Postgres))
	}
	if o.sections["ssh"] {
		t.ssh(benchSSH(ctx))
	}
	if o.sections["html"] {
		t.html(benchHTML(ctx, o))
	}
	if o.sections["backup"] {
		t.backup(benchBackup(ctx, o))
	}
	if o.sections["terraform"] {
		t.terraform(benchTerraform(ctx, o))
	}
	fmt.Print(t.render(o, time.Since(started)))
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// progress reports on stderr what the benchmark is doing; the table is the
// only thing on stdout.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "chom-bench: "+format+"\n", args...)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func header(o options, took time.Duration) string {
	host, _ := os.Hostname()
	h := fmt.Sprintf("CHOM benchmarks (make bench) — %s on %s: %d cores (GOMAXPROCS %d), %s, load average at the end %s; took %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(),
		loadAverage(), took.Round(time.Second))
	if o.sections["api-sqlite"] || o.sections["api-postgres"] {
		h += fmt.Sprintf(`API load: %d keep-alive clients in closed loop, %d alternating round(s) of %s per side after %s of warm-up;
%d tenants × %d html sites seeded, one token each; server and baseline are separate processes on 127.0.0.1.
`, o.clients, o.rounds, o.duration, o.warmup, o.tenants, o.sitesEach)
	}
	return h
}
