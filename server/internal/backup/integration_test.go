package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testhost"
)

// The tests in this file drive the real control plane through its API
// against the test hosts (CHOM_INTEGRATION=1, scripts/testhosts): what
// they check is what is on the hosts and in backup storage.

// client is a tenant's view of a control plane: an in-process one, or the
// server binary the kill test runs.
type client struct {
	e     *apitest.Env
	owner *apitest.Tenant
	vps   map[string]string // test host name → VPS id
}

func (c *client) do(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	return c.e.Do(t, method, path, c.owner.Token, body)
}

// register adds every host as a VPS and waits for their bootstrap.
func (c *client) register(t *testing.T, hosts []testhost.Host) {
	t.Helper()
	c.vps = map[string]string{}
	for _, h := range hosts {
		resp := c.do(t, http.MethodPost, "/api/v1/vps", map[string]any{
			"name": h.Name, "host": h.Address, "port": h.SSHPort, "ssh_user": h.User,
			"ssh_private_key": string(h.PrivateKey), "expected_host_key_fingerprint": h.HostKeyFingerprint,
		})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("register %s: %d %s", h.Name, resp.Status, resp.Body)
		}
		var out struct {
			VPS       struct{ ID string } `json:"vps"`
			Operation struct{ ID string } `json:"operation"`
		}
		resp.Decode(t, &out)
		c.vps[h.Name] = out.VPS.ID
		if op := c.wait(t, out.Operation.ID, 5*time.Minute); op["status"] != "succeeded" {
			t.Fatalf("bootstrap of %s: %v", h.Name, op["error"])
		}
	}
}

// wait polls an operation until it has finished.
func (c *client) wait(t *testing.T, id string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		op := c.do(t, http.MethodGet, "/api/v1/operations/"+id, nil).Map(t)
		if op["status"] == "succeeded" || op["status"] == "failed" {
			return op
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("operation %s did not finish", id)
	return nil
}

// testSite is a site as the tests use it.
type testSite struct {
	ID, Domain, User string
	host             testhost.Host
}

func (s testSite) app() string { return "/srv/chom/sites/" + s.User + "/www" }

// createSite makes a site of the given type on h and waits until it is
// active; it is deleted when the test ends.
func (c *client) createSite(t *testing.T, h testhost.Host, typ string) testSite {
	t.Helper()
	domain := typ + "-" + strings.ToLower(rand.Text()[:10]) + ".example.test"
	resp := c.do(t, http.MethodPost, "/api/v1/sites", map[string]any{"domain": domain, "type": typ, "vps_id": c.vps[h.Name]})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("create site: %d %s", resp.Status, resp.Body)
	}
	var out struct {
		Site struct {
			ID         string `json:"id"`
			SystemUser string `json:"system_user"`
		} `json:"site"`
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &out)
	s := testSite{ID: out.Site.ID, Domain: domain, User: out.Site.SystemUser, host: h}
	t.Cleanup(func() { c.deleteSite(t, s) })
	if op := c.wait(t, out.Operation.ID, 10*time.Minute); op["status"] != "succeeded" {
		t.Fatalf("create %s: %v\n%v", domain, op["error"], op["log"])
	}
	return s
}

// deleteSite deletes a site a test made, if the server still answers: a
// server a test killed has no one to ask.
func (c *client) deleteSite(t *testing.T, s testSite) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, c.e.URL+"/api/v1/sites/"+s.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.owner.Token)
	resp, err := c.e.HTTP.Do(req)
	if err != nil {
		t.Logf("delete site %s: %v", s.Domain, err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct {
		Operation struct{ ID string } `json:"operation"`
	}
	if resp.StatusCode == http.StatusAccepted && json.NewDecoder(resp.Body).Decode(&out) == nil {
		c.wait(t, out.Operation.ID, 5*time.Minute)
	}
}

// startBackup asks for a backup and returns its id and operation id.
func (c *client) startBackup(t *testing.T, body map[string]any) (string, string) {
	t.Helper()
	resp := c.do(t, http.MethodPost, "/api/v1/backups", body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("backup: %d %s", resp.Status, resp.Body)
	}
	return ids(t, resp)
}

// restore asks for a restore and waits for it.
func (c *client) restore(t *testing.T, backupID string, body any) map[string]any {
	t.Helper()
	resp := c.do(t, http.MethodPost, "/api/v1/backups/"+backupID+"/restore", body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("restore: %d %s", resp.Status, resp.Body)
	}
	_, opID := ids(t, resp)
	return c.wait(t, opID, 5*time.Minute)
}

func (c *client) backup(t *testing.T, id string) map[string]any {
	t.Helper()
	resp := c.do(t, http.MethodGet, "/api/v1/backups/"+id, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("get backup: %d %s", resp.Status, resp.Body)
	}
	return resp.Map(t)
}

func ids(t *testing.T, resp *apitest.Response) (backupID, opID string) {
	t.Helper()
	var out struct {
		Backup    struct{ ID string } `json:"backup"`
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &out)
	return out.Backup.ID, out.Operation.ID
}

// sh runs a script as root on the site's host.
func sh(t *testing.T, s testSite, script string, args ...string) string {
	t.Helper()
	out, err := s.host.Exec(t, append([]string{"sh", "-c", "set -e; " + script, "sh"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// asSite runs a script as the site's user in its application directory.
func asSite(t *testing.T, s testSite, script string, args ...string) string {
	t.Helper()
	return sh(t, s, `d=$1 u=$2 script=$3; shift 3; cd "$d"; exec runuser -u "$u" -- sh -c "set -e; $script" sh "$@"`,
		append([]string{s.app(), s.User, script}, args...)...)
}

// sql runs a query in the site's database.
func sql(t *testing.T, s testSite, query string) string {
	t.Helper()
	return sh(t, s, `mariadb -N -B "$1" -e "$2"`, s.User, query)
}

// known is what a test puts into a site: a file of random text, large
// enough to span several archive parts, and a row in the database.
type known struct {
	marker string // a random line, in the file and in the row
	sum    string // SHA-256 of the file
}

const knownFile = "wp-content/uploads/known.txt"

func putKnown(t *testing.T, s testSite) known {
	t.Helper()
	marker := "chom-marker-" + strings.ToLower(rand.Text())
	asSite(t, s, `mkdir -p wp-content/uploads
{ printf '%s\n' "$1"; head -c 12000000 /dev/urandom | base64; printf '%s\n' "$1"; } > "$2"`, marker, knownFile)
	sql(t, s, "CREATE TABLE IF NOT EXISTS chom_known (id INT PRIMARY KEY, v VARCHAR(100)); REPLACE INTO chom_known VALUES (1, '"+marker+"');")
	return known{marker: marker, sum: fileSum(t, s)}
}

func fileSum(t *testing.T, s testSite) string {
	t.Helper()
	return sh(t, s, `sha256sum < "$1" | cut -d' ' -f1`, s.app()+"/"+knownFile)
}

// hasKnown reports whether the site holds the known file, byte for byte,
// and the known row.
func hasKnown(t *testing.T, s testSite, k known) error {
	t.Helper()
	if got := fileSum(t, s); got != k.sum {
		return fmt.Errorf("%s has SHA-256 %s, want %s", knownFile, got, k.sum)
	}
	if got := sql(t, s, "SELECT v FROM chom_known WHERE id = 1"); got != k.marker {
		return fmt.Errorf("the known row is %q, want %q", got, k.marker)
	}
	return nil
}

func configSum(t *testing.T, s testSite) string {
	t.Helper()
	return sh(t, s, `sha256sum < "$1" | cut -d' ' -f1`, s.app()+"/wp-config.php")
}

// objectPath is where the local storage keeps an archive.
func objectPath(dataDir string, b map[string]any) string {
	return filepath.Join(dataDir, "backups", filepath.FromSlash(b["storage_location"].(string)))
}

// TestIntegrationBackupRoundTrip takes a backup of a WordPress site with a
// known file and a known row, damages both, restores it in place and into
// a second site on another host, and checks the storage: the archive holds
// nothing in clear, a corrupted archive is refused with the site left as
// it was, a failing backup is visible, and the schedule's retention keeps
// exactly keep_last backups.
func TestIntegrationBackupRoundTrip(t *testing.T) {
	hosts := testhost.Hosts(t)
	if len(hosts) < 2 {
		t.Fatalf("need 2 test hosts, have %d", len(hosts))
	}
	// Two attempts: a failing backup fails within seconds, not minutes.
	e := apitest.New(t, apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "10.77.0.0/16"), apitest.WithEnv("CHOM_JOB_MAX_ATTEMPTS", "2"))
	if err := e.Server.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &client{e: e, owner: e.Register(t, "backups")}
	c.register(t, hosts[:2])
	a := c.createSite(t, hosts[0], "wordpress")
	k := putKnown(t, a)
	configA := configSum(t, a)

	backupID, opID := c.startBackup(t, map[string]any{"site_id": a.ID, "description": "before the upgrade"})
	if op := c.wait(t, opID, 5*time.Minute); op["status"] != "succeeded" {
		t.Fatalf("backup: %v\n%v", op["error"], op["log"])
	}
	b := c.backup(t, backupID)
	if b["status"] != "completed" || len(b["sha256"].(string)) != 64 || b["size_bytes"].(float64) < 12e6 || b["completed_at"] == nil {
		t.Fatalf("backup after its operation: %v", b)
	}
	raw, err := os.ReadFile(objectPath(e.DataDir, b))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(raw)) != int64(b["size_bytes"].(float64)) {
		t.Fatalf("the object has %d bytes, the backup says %v", len(raw), b["size_bytes"])
	}
	if bytes.Contains(raw, []byte(k.marker)) || bytes.Contains(raw, []byte("DB_PASSWORD")) || bytes.Contains(raw, []byte("CREATE TABLE")) {
		t.Fatal("the stored object holds plaintext of the site")
	}

	// Damage the site, then restore it in place.
	asSite(t, a, `printf 'defaced\n' > "$1"`, knownFile)
	sql(t, a, "DELETE FROM chom_known; CREATE TABLE chom_later (id INT);")
	if op := c.restore(t, backupID, nil); op["status"] != "succeeded" {
		t.Fatalf("restore: %v\n%v", op["error"], op["log"])
	}
	if err := hasKnown(t, a, k); err != nil {
		t.Fatalf("after the restore: %v", err)
	}
	if got := sql(t, a, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'chom_later'"); got != "0" {
		t.Fatal("a table created after the backup survived the restore")
	}
	if configSum(t, a) != configA {
		t.Fatal("the restore changed wp-config.php")
	}

	// Into a second site, on the other host: same content, its own
	// configuration, served by nginx.
	b2 := c.createSite(t, hosts[1], "wordpress")
	configB := configSum(t, b2)
	if op := c.restore(t, backupID, map[string]any{"target_site_id": b2.ID}); op["status"] != "succeeded" || op["target_id"] != b2.ID {
		t.Fatalf("restore into the second site: %v\n%v", op["error"], op["log"])
	}
	if err := hasKnown(t, b2, k); err != nil {
		t.Fatalf("the second site: %v", err)
	}
	if configSum(t, b2) != configB {
		t.Fatal("the clone took the first site's wp-config.php")
	}
	if status, body, err := b2.host.HTTPGet(t, b2.Domain, "/"+knownFile); err != nil || status != http.StatusOK || !strings.HasPrefix(body, k.marker+"\n") {
		t.Fatalf("the second site serves the restored file: %d %v", status, err)
	}

	// A corrupted archive is refused and the site is left as it was.
	corrupt := append([]byte(nil), raw...)
	corrupt[len(corrupt)/2] ^= 0x40
	if err := os.WriteFile(objectPath(e.DataDir, b), corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	asSite(t, a, `printf 'edited after the backup\n' > "$1"`, knownFile)
	edited := fileSum(t, a)
	op := c.restore(t, backupID, nil)
	if op["status"] != "failed" || !strings.Contains(fmt.Sprint(op["error"]), "corrupted") || op["attempts"].(float64) != 1 {
		t.Fatalf("restore of a corrupted archive: %v %v", op["status"], op["error"])
	}
	if fileSum(t, a) != edited || sql(t, a, "SELECT v FROM chom_known WHERE id = 1") != k.marker {
		t.Fatal("a refused restore changed the site")
	}
	t.Logf("corrupted archive refused: %v", op["error"])

	// A backup that cannot be taken is failed, with its reason, counted
	// and audited; nothing of it stays in storage.
	sh(t, a, `install -m 000 -o root /dev/null "$1/unreadable"`, a.app())
	failedID, opID := c.startBackup(t, map[string]any{"site_id": a.ID, "type": "files"})
	if op := c.wait(t, opID, 5*time.Minute); op["status"] != "failed" {
		t.Fatalf("backup of an unreadable site: %v", op["status"])
	}
	sh(t, a, `rm -f "$1/unreadable"`, a.app())
	fb := c.backup(t, failedID)
	if fb["status"] != "failed" || !strings.Contains(fmt.Sprint(fb["error"]), "Permission denied") || fb["storage_location"] != nil {
		t.Fatalf("failed backup: %v", fb)
	}
	if _, err := os.Stat(filepath.Join(e.DataDir, "backups", c.owner.OrgID, failedID+".tar.age")); !os.IsNotExist(err) {
		t.Fatalf("the failed backup left an object: %v", err)
	}
	metrics := c.do(t, http.MethodGet, "/metrics", nil)
	if !strings.Contains(string(metrics.Body), "chom_backups_failed_total 1\n") {
		t.Fatal("chom_backups_failed_total is not 1")
	}
	audit := c.do(t, http.MethodGet, "/api/v1/audit-logs?target_id="+failedID, nil).Map(t)
	if !strings.Contains(fmt.Sprint(audit["data"]), "backup.fail") {
		t.Fatalf("no backup.fail audit entry: %v", audit["data"])
	}

	// Retention: with keep_last 2, a third scheduled run leaves exactly
	// two scheduled backups, and their two objects.
	resp := c.do(t, http.MethodPut, "/api/v1/sites/"+a.ID+"/backup-schedule", map[string]any{
		"enabled": true, "frequency": "cron", "cron": "0 3 * * *", "timezone": "Europe/Paris", "type": "database", "keep_last": 2,
	})
	if resp.Status != http.StatusOK {
		t.Fatalf("schedule: %d %s", resp.Status, resp.Body)
	}
	var scheduled []string
	for run := 1; run <= 3; run++ {
		id := c.runSchedule(t, a)
		scheduled = append(scheduled, id)
	}
	var list struct {
		Data []map[string]any `json:"data"`
	}
	c.do(t, http.MethodGet, "/api/v1/backups?site_id="+a.ID+"&limit=200", nil).Decode(t, &list)
	var kept []string
	objects := map[string]bool{}
	for _, b := range list.Data {
		if b["scheduled"] == true {
			kept = append(kept, b["id"].(string))
		}
		if b["status"] == "completed" {
			objects[b["storage_location"].(string)] = true
		}
	}
	if strings.Join(kept, ",") != scheduled[2]+","+scheduled[1] {
		t.Fatalf("scheduled backups kept %v, want the last two of %v", kept, scheduled)
	}
	stored := storedObjects(t, e.DataDir)
	if len(stored) != len(objects) {
		t.Fatalf("storage holds %v, the completed backups are %v", stored, objects)
	}
	for _, key := range stored {
		if !objects[key] {
			t.Fatalf("storage holds %s, which no backup lists", key)
		}
	}
	if c.do(t, http.MethodGet, "/api/v1/backups/"+scheduled[0], nil).Status != http.StatusNotFound {
		t.Fatal("the oldest scheduled backup survived retention")
	}
}

// runSchedule makes the site's schedule due, runs the sweep and waits for
// the scheduled backup it starts; it returns the backup's id.
func (c *client) runSchedule(t *testing.T, s testSite) string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.e.Server.Store.SQLDB().ExecContext(ctx, "UPDATE backup_schedules SET next_run_at = ? WHERE site_id = ?",
		time.Now().UTC().Add(-time.Minute), s.ID); err != nil {
		t.Fatal(err)
	}
	before := c.scheduledBackups(t, s)
	if err := c.e.Server.Backups.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	var started []string
	for id := range c.scheduledBackups(t, s) {
		if !before[id] {
			started = append(started, id)
		}
	}
	if len(started) != 1 {
		t.Fatalf("the sweep started %v", started)
	}
	id := started[0]
	var ops struct {
		Data []struct{ ID string } `json:"data"`
	}
	c.do(t, http.MethodGet, "/api/v1/operations?target_type=backup&target_id="+id, nil).Decode(t, &ops)
	if len(ops.Data) != 1 {
		t.Fatalf("operations of the scheduled backup: %+v", ops.Data)
	}
	if op := c.wait(t, ops.Data[0].ID, 5*time.Minute); op["status"] != "succeeded" {
		t.Fatalf("scheduled backup: %v\n%v", op["error"], op["log"])
	}
	return id
}

// scheduledBackups returns the ids of the site's scheduled backups.
func (c *client) scheduledBackups(t *testing.T, s testSite) map[string]bool {
	t.Helper()
	var list struct {
		Data []struct {
			ID        string `json:"id"`
			Scheduled bool   `json:"scheduled"`
		} `json:"data"`
	}
	c.do(t, http.MethodGet, "/api/v1/backups?limit=200&site_id="+s.ID, nil).Decode(t, &list)
	out := map[string]bool{}
	for _, b := range list.Data {
		if b.Scheduled {
			out[b.ID] = true
		}
	}
	return out
}

// storedObjects lists the archives in the local storage, as keys.
func storedObjects(t *testing.T, dataDir string) []string {
	t.Helper()
	root := filepath.Join(dataDir, "backups")
	var keys []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		keys = append(keys, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
