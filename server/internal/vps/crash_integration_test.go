package vps_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	bin := buildServer(t)
	dataDir := t.TempDir()

	first := startServerProcess(t, bin, dataDir)
	e := &apitest.Env{URL: "http://" + first.addr, HTTP: &http.Client{Timeout: 30 * time.Second}}
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
				first.kill(t)
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
	second := startServerProcess(t, bin, dataDir)
	e.URL = "http://" + second.addr
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
	for _, p := range []*serverProcess{first, second} {
		if strings.Contains(p.output(), strings.Split(string(h.PrivateKey), "\n")[1]) {
			t.Fatal("the server logged the private key")
		}
	}
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// buildServer builds the chom-server binary once per test binary.
func buildServer(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chom-vps-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "chom-server")
		out, err := exec.Command("go", "build", "-o", builtPath, "github.com/chomhq/chom/server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// serverProcess is the binary serving on a data directory.
type serverProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed once the process has been waited for
	err    error

	mu  sync.Mutex
	out strings.Builder
}

func startServerProcess(t *testing.T, bin, dataDir string) *serverProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"CHOM_ENV=test",
		"CHOM_DATA_DIR=" + dataDir,
		"CHOM_LISTEN_ADDR=127.0.0.1:0",
		"CHOM_LOG_FORMAT=json",
		"CHOM_HEALTH_INTERVAL=0",
		"CHOM_ALLOWED_NETWORKS=10.77.0.0/16",
		// A killed attempt is presumed dead, and retried, this soon.
		"CHOM_JOB_TIMEOUT=10s",
		"CHOM_JOB_RESCUE_AFTER=12s",
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "control plane listening" {
				addr <- rec.Addr
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("server output:\n%s", p.output())
		}
	})
	select {
	case p.addr = <-addr:
	case <-p.exited:
		t.Fatalf("server exited: %v\n%s", p.err, p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start listening:\n%s", p.output())
	}
	return p
}

// kill sends SIGKILL to the process this test started and waits for it.
func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("server %d did not exit after SIGKILL", p.cmd.Process.Pid)
	}
}

func (p *serverProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}
