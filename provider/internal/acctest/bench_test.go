package acctest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

// EnvBench must be 1 for TestBenchProvider to run; it is no test of
// correctness and takes minutes.
const EnvBench = "CHOM_BENCH"

func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }

// TestBenchProvider times the CLI through the provider on the test hosts:
// an apply creating html sites spread across both hosts, a plan of them
// with no changes, and their destroy. Each wall time is printed beside a
// baseline measured in the same run: the sum of the server-side durations
// of the operations the apply or destroy started (from the operations
// API's started_at and finished_at) and their span, or, for the plan, the
// time the same reads take through the API alone.
//
// Run it with CHOM_BENCH=1 TF_ACC=1 CHOM_INTEGRATION=1 and
// TF_ACC_TERRAFORM_PATH set; CHOM_BENCH_SITES sets the number of sites
// (default 50).
func TestBenchProvider(t *testing.T) {
	if os.Getenv(EnvBench) != "1" {
		t.Skipf("set %s=1 to run the provider benchmark", EnvBench)
	}
	hosts := acctest.Hosts(t, 2)
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		t.Fatal("set TF_ACC_TERRAFORM_PATH to the terraform or tofu binary to time")
	}
	n := 50
	if v := os.Getenv("CHOM_BENCH_SITES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("CHOM_BENCH_SITES=%q: want a positive number", v)
		}
	}
	s := acctest.New(t)
	dir := t.TempDir()
	run := newCLI(t, cli, dir)

	write := func(sites int) {
		cfg := s.ProviderConfig() + acctest.VPSResource("h1", hosts[0], acctest.SensitiveKey) + acctest.VPSResource("h2", hosts[1], acctest.SensitiveKey)
		if sites > 0 {
			cfg += fmt.Sprintf(`
resource "chom_site" "bench" {
  count  = %d
  domain = "bench-${count.index}.%s"
  type   = "html"
  vps_id = count.index %% 2 == 0 ? chom_vps.h1.id : chom_vps.h2.id
}
`, sites, strings.TrimPrefix(acctest.RandomDomain("run"), "run-"))
		}
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// No init: the provider comes from dev_overrides, and there is no
	// other provider to install.
	write(0)
	run("apply", "-input=false", "-auto-approve")
	t.Cleanup(func() { run("destroy", "-input=false", "-auto-approve") })

	write(n)
	start := time.Now()
	run("apply", "-input=false", "-auto-approve")
	applyWall := time.Since(start)
	create := operationStats(t, s, "site.create")

	start = time.Now()
	out := run("plan", "-input=false", "-detailed-exitcode")
	planWall := time.Since(start)
	if !strings.Contains(out, "No changes") {
		t.Fatalf("the plan after the apply proposes changes:\n%s", out)
	}
	reads := timeReads(t, s)

	write(0)
	start = time.Now()
	run("apply", "-input=false", "-auto-approve")
	destroyWall := time.Since(start)
	deletion := operationStats(t, s, "site.delete")

	cliName := filepath.Base(cli)
	fmt.Printf("provider benchmark, %s, %d html sites on 2 hosts\n", cliName, n)
	fmt.Printf("apply:   wall %8s   %s\n", round(applyWall), create)
	fmt.Printf("plan:    wall %8s   no changes; the same %d reads through the API alone: %s\n", round(planWall), n+2, round(reads))
	fmt.Printf("destroy: wall %8s   %s\n", round(destroyWall), deletion)
}

// newCLI returns a function running the CLI in dir against the provider
// built from this module, as a developer's dev_overrides would.
func newCLI(t *testing.T, cli, dir string) func(args ...string) string {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-chom"), "github.com/chomhq/chom/provider")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the provider: %v\n%s", err, out)
	}
	rc := filepath.Join(bin, "terraformrc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"hashicorp/chom\" = %q\n  }\n  direct {}\n}\n", bin)
	if err := os.WriteFile(rc, []byte(overrides), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append(args, "-no-color")...) //nolint:gosec // the CLI the developer named in TF_ACC_TERRAFORM_PATH
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(cli), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// stats sums the server-side durations of the operations of one kind.
type stats struct {
	kind        string
	count       int
	sum, span   time.Duration
	first, last time.Time
}

func (s stats) String() string {
	return fmt.Sprintf("%d %s operations: server-side sum %s, span %s (first start to last finish)", s.count, s.kind, round(s.sum), round(s.span))
}

func operationStats(t *testing.T, s *acctest.Server, kind string) stats {
	t.Helper()
	st := stats{kind: kind}
	for offset := 0; ; {
		page, err := s.Client.ListOperations(context.Background(), client.OperationListOptions{TargetType: "site", Limit: 200, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range page.Data {
			if op.Kind != kind || op.StartedAt == nil || op.FinishedAt == nil {
				continue
			}
			if op.Status != client.OperationSucceeded {
				t.Fatalf("operation %s (%s) %s: %s", op.ID, op.Kind, op.Status, op.Error)
			}
			st.count++
			st.sum += op.FinishedAt.Sub(*op.StartedAt)
			if st.first.IsZero() || op.StartedAt.Before(st.first) {
				st.first = *op.StartedAt
			}
			if op.FinishedAt.After(st.last) {
				st.last = *op.FinishedAt
			}
		}
		offset += len(page.Data)
		if len(page.Data) == 0 || int64(offset) >= page.Pagination.Total {
			break
		}
	}
	st.span = st.last.Sub(st.first)
	return st
}

// timeReads reads every server and site one by one, as a refresh does.
func timeReads(t *testing.T, s *acctest.Server) time.Duration {
	t.Helper()
	ctx := context.Background()
	sites, err := s.Client.AllSites(ctx, client.SiteListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	servers, err := s.Client.ListVPS(ctx, client.VPSListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, site := range sites {
		if _, err := s.Client.Site(ctx, site.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range servers.Data {
		if _, err := s.Client.VPS(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	return time.Since(start)
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
