package backup_test

import (
	"bufio"
	"context"
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
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/testhost"
)

// TestIntegrationBackupSurvivesServerKill kills the real server binary with
// SIGKILL while an archive streams into storage, then starts it again on
// the same data directory. The backup must end either completed, with a
// checksum that verifies and an archive that restores the site byte for
// byte, or failed, with a new backup then succeeding: never completed with
// an archive that does not restore. Nothing half-written stays in storage.
func TestIntegrationBackupSurvivesServerKill(t *testing.T) {
	hosts := testhost.Hosts(t)
	bin := buildServer(t)
	dataDir := t.TempDir()

	first := startServer(t, bin, dataDir)
	e := &apitest.Env{URL: "http://" + first.addr, HTTP: &http.Client{Timeout: 30 * time.Second}}
	c := &client{e: e, owner: e.Register(t, "crash")}
	c.register(t, hosts[:1])
	s := c.createSite(t, hosts[0], "html")
	// Incompressible, so that streaming it takes a while.
	asSite(t, s, `head -c 160000000 /dev/urandom > big.bin`)
	want := sh(t, s, `sha256sum < "$1" | cut -d' ' -f1`, s.app()+"/big.bin")

	backupID, opID := c.startBackup(t, map[string]any{"site_id": s.ID})
	partial := waitForPartial(t, dataDir, backupID, 8<<20)
	first.kill(t)
	if b := backupStatus(t, dataDir, c.owner.OrgID, backupID); b != "running" {
		t.Fatalf("after the kill the backup is %s, want running", b)
	}
	t.Logf("killed the server with %s of the archive written", partial)

	second := startServer(t, bin, dataDir)
	e.URL = "http://" + second.addr
	// Before the server stops, which cleanups do in reverse order.
	t.Cleanup(func() { c.deleteSite(t, s) })
	op := c.wait(t, opID, 4*time.Minute)
	b := c.backup(t, backupID)
	t.Logf("after the restart: operation %v after %v attempts, backup %v", op["status"], op["attempts"], b["status"])
	switch b["status"] {
	case "completed":
		if op["status"] != "succeeded" || op["attempts"].(float64) < 2 || !strings.Contains(fmt.Sprint(op["log"]), "resuming at step 2") {
			t.Fatalf("completed backup from operation %v: %v", op["status"], op["log"])
		}
	case "failed":
		if b["error"] == nil || b["storage_location"] != nil {
			t.Fatalf("failed backup: %v", b)
		}
		// Retried: a new backup of the same site succeeds.
		var retryOp string
		backupID, retryOp = c.startBackup(t, map[string]any{"site_id": s.ID})
		if op := c.wait(t, retryOp, 4*time.Minute); op["status"] != "succeeded" {
			t.Fatalf("the retried backup: %v", op["error"])
		}
	default:
		t.Fatalf("the backup ended %v (operation %v: %v)", b["status"], op["status"], op["error"])
	}
	if left := partials(t, dataDir); len(left) > 0 {
		t.Fatalf("half-written archives stay in storage: %v", left)
	}

	// The completed backup restores: damage the site, restore, compare.
	asSite(t, s, `printf 'damaged' > big.bin`)
	if op := c.restore(t, backupID, nil); op["status"] != "succeeded" {
		t.Fatalf("restore: %v\n%v", op["error"], op["log"])
	}
	if got := sh(t, s, `sha256sum < "$1" | cut -d' ' -f1`, s.app()+"/big.bin"); got != want {
		t.Fatalf("after the restore big.bin has SHA-256 %s, want %s", got, want)
	}
}

// backupStatus reads a backup's status straight from the database of the
// stopped server.
func backupStatus(t *testing.T, dataDir, orgID, id string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dataDir, "chom.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	b, err := st.Backup(ctx, orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return b.Status
}

// waitForPartial waits until the backup's archive is being written and
// holds at least min bytes, and returns its size.
func waitForPartial(t *testing.T, dataDir, backupID string, min int64) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dataDir, "backups", "*", ".partial-"+backupID+".tar.age.*"))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Size() >= min {
				return fmt.Sprintf("%d MB", fi.Size()>>20)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the archive never started streaming into storage")
	return ""
}

func partials(t *testing.T, dataDir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dataDir, "backups", "*", ".partial-*"))
	if err != nil {
		t.Fatal(err)
	}
	return matches
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
		dir, err := os.MkdirTemp("", "chom-backup-test-")
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
	exited chan struct{}

	mu  sync.Mutex
	out strings.Builder
}

func startServer(t *testing.T, bin, dataDir string) *serverProcess {
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
		"CHOM_JOB_TIMEOUT=40s",
		"CHOM_JOB_RESCUE_AFTER=45s",
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
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			p.mu.Lock()
			t.Logf("server output:\n%s", p.out.String())
			p.mu.Unlock()
		}
	})
	select {
	case p.addr = <-addr:
	case <-p.exited:
		t.Fatal("the server exited at start")
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start listening")
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
