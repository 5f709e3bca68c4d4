package apitest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ServerBinary builds the real chom-server once per test binary and
// returns its path.
func ServerBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chom-server-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "chom-server")
		out, err := exec.CommandContext(context.Background(), "go", "build", "-o", binPath, "github.com/chomhq/chom/server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreeAddr returns a loopback address with a port free now, to serve on
// across restarts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// Process is the server binary serving on addr, for tests that kill it
// and start it again on the same data directory.
type Process struct {
	// Env talks to the process through the API, checked against the
	// OpenAPI document like any other Env.
	Env *Env

	cmd  *exec.Cmd
	logs *SyncBuffer
	done chan struct{}
}

// StartProcess runs `chom-server serve` on dataDir and addr with the test
// settings and env (CHOM_* variables), and waits until it answers. The
// process is killed when the test ends.
func StartProcess(t testing.TB, dataDir, addr string, env map[string]string) *Process {
	t.Helper()
	vars := map[string]string{
		"CHOM_ENV": "test", "CHOM_DATA_DIR": dataDir, "CHOM_LISTEN_ADDR": addr,
		"CHOM_HEALTH_INTERVAL": "0", "CHOM_LOG_LEVEL": "warn", "CHOM_RATE_LIMIT": "100000",
	}
	for k, v := range env {
		vars[k] = v
	}
	// Killed by Kill or the test's cleanup, never by a context.
	cmd := exec.CommandContext(context.Background(), ServerBinary(t), "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	sort.Strings(cmd.Env)
	p := &Process{
		Env: &Env{URL: "http://" + addr, HTTP: &http.Client{Timeout: 30 * time.Second}, DataDir: dataDir},
		cmd: cmd, logs: &SyncBuffer{}, done: make(chan struct{}),
	}
	p.Env.Logs = p.logs
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server output:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("the server exited:\n%s", p.logs.String())
		default:
		}
		if p.healthy() {
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not answer within 30s:\n%s", p.logs.String())
	return nil
}

func (p *Process) healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Env.URL+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := p.Env.HTTP.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// Logs returns what the process wrote so far.
func (p *Process) Logs() string { return p.logs.String() }
