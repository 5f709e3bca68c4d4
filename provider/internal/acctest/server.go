package acctest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvServerBinary names a prebuilt chom-server to test against; without it
// the tests build github.com/chomhq/chom/server once per test binary.
//
// The control plane runs as its own process because Go does not let code
// outside server/ import server/internal/…; the binary is the same code
// that ships, started with the same configuration a deployment uses.
const EnvServerBinary = "CHOM_ACC_SERVER"

const serverPackage = "github.com/chomhq/chom/server"

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// Run runs the package's tests and removes the server binary it built.
// Call it from TestMain: func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }.
func Run(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	return code
}

func serverBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv(EnvServerBinary); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "chom-acctest-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "chom-server")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", buildBin, serverPackage)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build %s: %w\n%s", serverPackage, err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build control plane: %v", buildErr)
	}
	return buildBin
}

// logBuffer collects the server's output for the failure report.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs `chom-server serve` on a free loopback port with the
// CHOM_* settings in env, waits until it is ready, and stops it when t ends.
func startServer(t *testing.T, env map[string]string) string {
	t.Helper()
	bin := serverBinary(t)
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	env["CHOM_LISTEN_ADDR"] = addr

	// The process outlives this call; Cleanup stops it with SIGTERM first
	// so it shuts down as in production.
	cmd := exec.Command(bin, "serve") //nolint:noctx // stopped by Cleanup, gracefully
	// Only what the test sets: a developer's own CHOM_DATABASE_URL must
	// not point the tests at a real database.
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &logBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	// exited closes once the process is gone; exitErr is set before.
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("control plane stopped (%v); its output:\n%s", exitErr, logs.String())
		}
	})

	url := "http://" + addr
	if err := waitReady(url, exited, time.Minute); err != nil {
		t.Fatalf("control plane did not start: %v\n%s", err, logs.String())
	}
	return url
}

func freeLoopbackAddr() (string, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// waitReady polls /readyz until the server answers 200, the process exits
// or the time is up.
func waitReady(url string, exited <-chan struct{}, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz answered %d", resp.StatusCode)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("the process exited before it was ready; last probe: %w", last)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", within, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
