package site_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testhost"
)

// TestIntegrationServerKilledMidProvisioning kills the server (SIGKILL) in
// the middle of a WordPress site's provisioning. After a restart the
// operation resumes at the step that was cut short and the site ends
// active, with exactly one user, pool, database and server block.
func TestIntegrationServerKilledMidProvisioning(t *testing.T) {
	h := testhost.Hosts(t)[0]
	dataDir, addr := t.TempDir(), apitest.FreeAddr(t)
	env := map[string]string{
		"CHOM_ALLOWED_NETWORKS": "10.77.0.0/16",
		// A killed attempt is taken over once it has looked alive this long.
		"CHOM_JOB_TIMEOUT": "40s", "CHOM_JOB_RESCUE_AFTER": "45s",
	}
	srv := apitest.StartProcess(t, dataDir, addr, env)
	p := &platform{e: srv.Env, hosts: []testhost.Host{h}, vps: map[string]string{}}
	p.owner = p.e.Register(t, "crash")
	resp := p.do(t, http.MethodPost, "/api/v1/vps", map[string]any{
		"name": h.Name, "host": h.Address, "port": h.SSHPort, "ssh_user": h.User, "ssh_private_key": string(h.PrivateKey),
	})
	var registered struct {
		VPS       struct{ ID string } `json:"vps"`
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &registered)
	if op := p.wait(t, registered.Operation.ID); op["status"] != "succeeded" {
		t.Fatalf("bootstrap: %v", op["error"])
	}

	domain := "crash-" + suffix() + ".example.test"
	s, opID := p.start(t, http.MethodPost, "/api/v1/sites", map[string]any{"domain": domain, "type": "wordpress", "vps_id": registered.VPS.ID})
	killedAt := ""
	deadline := time.Now().Add(2 * time.Minute)
	for killedAt == "" && time.Now().Before(deadline) {
		op := p.do(t, http.MethodGet, "/api/v1/operations/"+opID, nil).Map(t)
		progress := op["progress"].(map[string]any)
		switch {
		case op["status"] == "succeeded" || op["status"] == "failed":
			t.Fatalf("the operation finished (%v) before the server could be killed in the middle", op["status"])
		case op["status"] == "running" && progress["step_name"] == "copy WordPress":
			srv.Kill(t)
			killedAt = fmt.Sprint(progress["step_name"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if killedAt == "" {
		t.Fatal("the operation never reached the step to kill the server in")
	}

	apitest.StartProcess(t, dataDir, addr, env)
	// Registered after the restarted server's own cleanup, so it runs first.
	t.Cleanup(func() { p.remove(t, h, s) })
	s, op := p.finish(t, s, opID)
	if op["status"] != "succeeded" || s.Status != "active" {
		t.Fatalf("after the restart: site %s, operation %v: %v\n%v", s.Status, op["status"], op["error"], op["log"])
	}
	if op["attempts"].(float64) < 2 || !strings.Contains(op["log"].(string), "resuming at step") {
		t.Fatalf("the operation did not resume after the kill:\n%v", op["log"])
	}
	t.Logf("killed during %q; resumed and succeeded after %d attempts", killedAt, int(op["attempts"].(float64)))

	counts := onHost(t, h, fmt.Sprintf(`
getent passwd | grep -c '^%[1]s:'
getent group | grep -c '^%[1]s:'
ls /etc/php/*/fpm/pool.d/ | grep -c '^%[1]s\.conf$'
ls /etc/nginx/chom.d/ | grep -c '^%[1]s'
mariadb -N -B -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '%[1]s%%'; SELECT COUNT(*) FROM mysql.user WHERE User LIKE '%[1]s%%'"`, s.User))
	if counts != "1\n1\n1\n1\n1\n1" {
		t.Fatalf("user, group, pool, server block, database, database user: %q, want one of each", counts)
	}
	if status, body := get(t, h, domain, "/wp-admin/install.php", http.StatusOK); status != http.StatusOK || !strings.Contains(body, "WordPress") {
		t.Fatalf("the resumed site answers %d", status)
	}
	if _, op := p.mutate(t, http.MethodDelete, "/api/v1/sites/"+s.ID, nil); op["status"] != "succeeded" {
		t.Fatalf("delete: %v", op["error"])
	}
	if left := leftovers(t, h, s.User); left != "" {
		t.Fatalf("left on the host:\n%s", left)
	}
}
