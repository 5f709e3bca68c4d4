package vps_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testhost"
)

// TestIntegrationVPSBootstrapResumesAfterKill kills the real server binary
// with SIGKILL while a bootstrap runs. After a restart on the same data
// directory the operation is taken up again where it stopped and the VPS
// ends active.
func TestIntegrationVPSBootstrapResumesAfterKill(t *testing.T) {
	hosts := testhost.Hosts(t)
	h := hosts[0]
	dataDir, addr := t.TempDir(), apitest.FreeAddr(t)
	env := map[string]string{
		"CHOM_LOG_FORMAT": "json", "CHOM_LOG_LEVEL": "info",
		"CHOM_ALLOWED_NETWORKS": "10.77.0.0/16",
		// A killed attempt is presumed dead, and retried, this soon.
		"CHOM_JOB_TIMEOUT": "10s", "CHOM_JOB_RESCUE_AFTER": "12s",
	}

	first := apitest.StartProcess(t, dataDir, addr, env)
	e := first.Env
	owner := e.Register(t, "crash")

	var vpsID, opID string
	var killedAt map[string]any
	for try := 1; killedAt == nil; try++ {
		resp := e.Do(t, http.MethodPost, "/api/v1/vps", owner.Token, map[string]any{
			"name": fmt.Sprintf("crash-%d", try), "host": h.Address, "port": h.SSHPort, "ssh_private_key": string(h.PrivateKey),
		})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("register: %d %s", resp.Status, resp.Body)
		}
		var out struct {
			VPS       struct{ ID string } `json:"vps"`
			Operation struct{ ID string } `json:"operation"`
		}
		resp.Decode(t, &out)
		vpsID, opID = out.VPS.ID, out.Operation.ID
		// Kill once a few steps are done and several remain.
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			op := e.Do(t, http.MethodGet, "/api/v1/operations/"+opID, owner.Token, nil).Map(t)
			progress := op["progress"].(map[string]any)
			step, count := progress["step"].(float64), progress["step_count"].(float64)
			if op["status"] == "running" && step >= 2 && step < count-2 {
				first.Kill(t)
				killedAt = op
				break
			}
			if op["status"] == "succeeded" || op["status"] == "failed" {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if killedAt == nil && try == 3 {
			t.Fatal("never caught a bootstrap in the middle of its steps")
		}
	}

	t.Logf("killed the server during step %v of %v (%v)", killedAt["progress"].(map[string]any)["step"].(float64)+1,
		killedAt["progress"].(map[string]any)["step_count"], killedAt["progress"].(map[string]any)["step_name"])
	second := apitest.StartProcess(t, dataDir, addr, env)
	e = second.Env
	var op map[string]any
	deadline := time.Now().Add(3 * time.Minute)
	for {
		op = e.Do(t, http.MethodGet, "/api/v1/operations/"+opID, owner.Token, nil).Map(t)
		if op["status"] == "succeeded" || op["status"] == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the operation did not finish after the restart: %v", op)
		}
		time.Sleep(250 * time.Millisecond)
	}
	step := int(killedAt["progress"].(map[string]any)["step"].(float64))
	log := fmt.Sprint(op["log"])
	if op["status"] != "succeeded" || op["attempts"].(float64) < 2 ||
		!strings.Contains(log, fmt.Sprintf("resuming at step %d of", step+1)) {
		t.Fatalf("after the restart (killed at step %d): %v\n%s", step+1, op["error"], log)
	}
	v := e.Do(t, http.MethodGet, "/api/v1/vps/"+vpsID, owner.Token, nil).Map(t)
	if v["status"] != "active" || v["host_key_fingerprint"] != h.HostKeyFingerprint {
		t.Fatalf("vps after the resumed bootstrap: %v", v)
	}
	for _, p := range []*apitest.Process{first, second} {
		if strings.Contains(p.Logs(), strings.Split(string(h.PrivateKey), "\n")[1]) {
			t.Fatal("the server logged the private key")
		}
	}
}
