package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	dataDir, addr := t.TempDir(), apitest.FreeAddr(t)
	env := map[string]string{
		"CHOM_ALLOWED_NETWORKS": "10.77.0.0/16",
		// A killed attempt is presumed dead, and retried, this soon.
		"CHOM_JOB_TIMEOUT": "40s", "CHOM_JOB_RESCUE_AFTER": "45s",
	}

	first := apitest.StartProcess(t, dataDir, addr, env)
	e := first.Env
	c := &client{e: e, owner: e.Register(t, "crash")}
	c.register(t, hosts[:1])
	s := c.createSite(t, hosts[0], "html")
	// Incompressible, so that streaming it takes a while.
	asSite(t, s, `head -c 160000000 /dev/urandom > big.bin`)
	want := sh(t, s, `sha256sum < "$1" | cut -d' ' -f1`, s.app()+"/big.bin")

	backupID, opID := c.startBackup(t, map[string]any{"site_id": s.ID})
	partial := waitForPartial(t, dataDir, backupID, 8<<20)
	first.Kill(t)
	if b := backupStatus(t, dataDir, c.owner.OrgID, backupID); b != "running" {
		t.Fatalf("after the kill the backup is %s, want running", b)
	}
	t.Logf("killed the server with %s of the archive written", partial)

	apitest.StartProcess(t, dataDir, addr, env)
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
