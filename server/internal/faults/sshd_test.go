package faults_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testhost"
)

// TestIntegrationSSHDStoppedDuringCreate stops a test host's sshd — its
// listener and open sessions — while a WordPress site is being created
// there, and starts it again once an attempt has failed. The operation
// either retries and succeeds, or fails saying SSH is what went wrong;
// running the site's provisioning again then leaves the host with exactly
// one of everything the site needs, and the site working.
func TestIntegrationSSHDStoppedDuringCreate(t *testing.T) {
	h := testhost.Hosts(t)[0]
	e := apitest.New(t, apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "10.77.0.0/16"))
	if err := e.Server.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := watch(t, e, "")
	vpsID := w.registerVPS(t, h, 10)
	s, opID := w.startSite(t, map[string]any{"domain": "sshd-" + suffix() + ".example.test", "type": "wordpress", "vps_id": vpsID})
	ids := []string{s.ID}
	w.removeSites(t, &ids)

	// Stop sshd in the middle of the operation.
	stoppedAt := ""
	for deadline := time.Now().Add(2 * time.Minute); stoppedAt == ""; time.Sleep(20 * time.Millisecond) {
		op := w.do(t, http.MethodGet, "/api/v1/operations/"+opID, nil).Map(t)
		progress := op["progress"].(map[string]any)
		switch {
		case op["status"] == "succeeded" || op["status"] == "failed":
			t.Fatalf("the operation ended (%v) before sshd could be stopped", op["status"])
		case time.Now().After(deadline):
			t.Fatal("the operation never reached its middle")
		case op["status"] == "running" && progress["step"].(float64) >= 2:
			h.StopSSHD(t)
			stoppedAt = progress["step_name"].(string)
		}
	}
	stopped := time.Now()

	// Down for 6 s at least, long enough for a retry to find the port
	// closed, and until an attempt has failed for it, or 30 s.
	var failure string
	for time.Since(stopped) < 30*time.Second && (failure == "" || time.Since(stopped) < 6*time.Second) {
		op := w.do(t, http.MethodGet, "/api/v1/operations/"+opID, nil).Map(t)
		if msg, ok := op["error"].(string); ok && msg != "" {
			failure = msg
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.StartSSHD(t)
	t.Logf("sshd stopped during %q for %s; the failed attempt said: %q", stoppedAt, time.Since(stopped).Round(time.Second), failure)
	if failure != "" && !strings.Contains(strings.ToLower(failure), "ssh") {
		t.Errorf("the error does not say SSH failed: %q", failure)
	}

	footprint := func(when string) {
		t.Helper()
		if got := siteFootprint(t, h, s.SystemUser); got != "user=1 group=1 pool=1 nginx=1 db=1 dbuser=1" {
			t.Fatalf("%s: the host holds %s for the site, want one of each", when, got)
		}
		status, body, err := h.HTTPGet(t, s.Domain, "/wp-admin/install.php")
		if err != nil || status != http.StatusOK || !strings.Contains(body, "WordPress") {
			t.Fatalf("%s: the site answers %d %v", when, status, err)
		}
	}

	op := w.wait(t, opID, 5*time.Minute)
	switch op["status"] {
	case "succeeded":
		t.Logf("the operation retried and succeeded after %v attempts", op["attempts"])
		footprint("after the outage")
	default:
		msg, _ := op["error"].(string)
		if !strings.Contains(strings.ToLower(msg), "ssh") {
			t.Errorf("the operation failed without saying SSH did: %q\n%v", msg, op["log"])
		}
		t.Logf("the operation failed: %q", msg)
	}

	// Run the whole provisioning again: an update does, and retries a
	// failed site.
	resp := w.do(t, http.MethodPatch, "/api/v1/sites/"+s.ID, map[string]any{"aliases": []string{"www." + s.Domain}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("re-run: %d %s", resp.Status, resp.Body)
	}
	var again struct {
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &again)
	if op := w.wait(t, again.Operation.ID, 5*time.Minute); op["status"] != "succeeded" {
		t.Fatalf("the re-run failed: %v\n%v", op["error"], op["log"])
	}
	if got := w.getSite(t, s.ID); got.Status != "active" {
		t.Fatalf("after the re-run the site is %s", got.Status)
	}
	footprint("after the re-run")
	w.do(t, http.MethodGet, "/api/v1/sites/"+s.ID+"/credentials", nil)
}
