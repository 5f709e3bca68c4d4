package faults_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testhost"
)

// opSummary is an operation as the list of operations returns it.
type opSummary struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	TargetID string `json:"target_id"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
	Log      string `json:"log"`
}

// siteOperations lists the organization's operations on sites.
func (w *watched) siteOperations(t *testing.T) []opSummary {
	t.Helper()
	var out struct {
		Data []opSummary `json:"data"`
	}
	w.do(t, http.MethodGet, "/api/v1/operations?target_type=site&limit=200", nil).Decode(t, &out)
	return out.Data
}

// TestIntegrationServerKilledDuringTwentyCreates starts 20 site creations
// over two test hosts — 16 static sites and 4 WordPress ones — and kills
// the server binary with SIGKILL while they run. After a restart on the
// same data every site ends active, exactly once: 20 sites, 20 create
// operations all succeeded, and on each host exactly one user, group,
// nginx server block (and, for WordPress, PHP-FPM pool, database and
// database user) per site placed there, and none of the others'.
func TestIntegrationServerKilledDuringTwentyCreates(t *testing.T) {
	hosts := testhost.Hosts(t)
	if len(hosts) < 2 {
		t.Fatalf("need 2 test hosts, have %d", len(hosts))
	}
	hosts = hosts[:2]
	dataDir, addr := t.TempDir(), apitest.FreeAddr(t)
	env := map[string]string{
		"CHOM_ALLOWED_NETWORKS": "10.77.0.0/16", "CHOM_LOG_FORMAT": "json", "CHOM_LOG_LEVEL": "info",
		"CHOM_JOB_TIMEOUT": "60s", "CHOM_JOB_RESCUE_AFTER": "65s",
	}
	first := apitest.StartProcess(t, dataDir, addr, env)
	w := watch(t, first.Env, "sqlite://"+filepath.Join(dataDir, "chom.db"))
	vps := make([]string, len(hosts))
	for i, h := range hosts {
		vps[i] = w.registerVPS(t, h, 50)
	}

	type placed struct {
		site
		host testhost.Host
	}
	var sites []placed
	var ids []string
	stamp := suffix()
	for i := range 20 {
		typ := "html"
		if i < 4 {
			typ = "wordpress"
		}
		n := i % len(hosts)
		s, _ := w.startSite(t, map[string]any{"domain": fmt.Sprintf("kill-%s-%d.example.test", stamp, i), "type": typ, "vps_id": vps[n]})
		sites = append(sites, placed{site: s, host: hosts[n]})
		ids = append(ids, s.ID)
	}

	// Kill while operations run, before they have all finished.
	var atKill map[string]int
	running := map[string]bool{}
	for deadline := time.Now().Add(2 * time.Minute); atKill == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never saw the creations running")
		}
		ops := w.siteOperations(t)
		counts := map[string]int{}
		for _, op := range ops {
			counts[op.Status]++
		}
		if counts["succeeded"]+counts["failed"] == len(sites) {
			t.Fatalf("all creations finished before the kill: %v", counts)
		}
		if counts["running"] >= 2 {
			first.Kill(t)
			atKill = counts
			for _, op := range ops {
				running[op.ID] = op.Status == "running"
			}
		}
	}
	t.Logf("killed the server with the creations at %v", atKill)

	w.earlierLogs = append(w.earlierLogs, first.Logs())
	second := apitest.StartProcess(t, dataDir, addr, env)
	w.e = second.Env
	w.removeSites(t, &ids)

	var ops []opSummary
	for deadline := time.Now().Add(6 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		ops = w.siteOperations(t)
		done := 0
		for _, op := range ops {
			if op.Status == "succeeded" || op.Status == "failed" {
				done++
			}
		}
		if done == len(ops) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the creations did not finish after the restart: %d of %d", done, len(ops))
		}
	}

	// No operation lost or doubled, every one succeeded.
	var targets []string
	resumed := 0
	for _, op := range ops {
		if op.Kind != "site.create" || op.Status != "succeeded" {
			t.Errorf("operation %s (%s on %s) is %s: %s\n%s", op.ID, op.Kind, op.TargetID, op.Status, op.Error, op.Log)
		}
		if running[op.ID] {
			resumed++
			if op.Attempts < 2 {
				t.Errorf("operation %s was running at the kill but shows %d attempt(s)", op.ID, op.Attempts)
			}
		}
		targets = append(targets, op.TargetID)
	}
	slices.Sort(targets)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(targets, want) {
		t.Fatalf("operations target %d sites %v, want one per created site %v", len(targets), targets, want)
	}

	// Every site active, exactly once.
	var list struct {
		Data       []site
		Pagination struct{ Total int } `json:"pagination"`
	}
	w.do(t, http.MethodGet, "/api/v1/sites?limit=100", nil).Decode(t, &list)
	if list.Pagination.Total != len(sites) {
		t.Fatalf("%d sites after the restart, want %d", list.Pagination.Total, len(sites))
	}
	for _, s := range list.Data {
		if s.Status != "active" {
			t.Errorf("site %s is %s", s.Domain, s.Status)
		}
	}

	// On the hosts: one of everything per site where it was placed, none
	// of it elsewhere; and nginx serves it.
	for _, s := range sites {
		want := "user=1 group=1 pool=0 nginx=1 db=0 dbuser=0"
		path, expect := "/", s.Domain
		if s.Type == "wordpress" {
			want = "user=1 group=1 pool=1 nginx=1 db=1 dbuser=1"
			path, expect = "/wp-admin/install.php", "WordPress"
			// Its database password joins the secrets the sweep looks for.
			w.do(t, http.MethodGet, "/api/v1/sites/"+s.ID+"/credentials", nil)
		}
		for _, h := range hosts {
			got := siteFootprint(t, h, s.SystemUser)
			if h.Name != s.host.Name {
				if got != "user=0 group=0 pool=0 nginx=0 db=0 dbuser=0" {
					t.Errorf("%s (%s) also left traces on %s: %s", s.Domain, s.SystemUser, h.Name, got)
				}
				continue
			}
			if got != want {
				t.Errorf("%s (%s) on %s: %s, want %s", s.Domain, s.SystemUser, h.Name, got, want)
			}
		}
		status, body, err := s.host.HTTPGet(t, s.Domain, path)
		if err != nil || status != http.StatusOK || !strings.Contains(body, expect) {
			t.Errorf("GET http://%s%s on %s: %d %v", s.Domain, path, s.host.Name, status, err)
		}
	}
	t.Logf("%d sites active after the restart; %d creation(s) were running at the kill and resumed", len(sites), resumed)
}
