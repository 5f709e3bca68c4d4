package vps_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/testhost"
)

// fleet is a control plane with running workers, allowed to reach the test
// hosts, and one tenant. It keeps every response body for the secret sweep.
type fleet struct {
	e     *apitest.Env
	owner *apitest.Tenant

	mu     sync.Mutex
	bodies [][]byte
}

func newFleet(t *testing.T, opts ...apitest.Option) *fleet {
	t.Helper()
	e := apitest.New(t, append([]apitest.Option{apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "10.77.0.0/16")}, opts...)...)
	if err := e.Server.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &fleet{e: e, owner: e.Register(t, "fleet")}
}

func (f *fleet) do(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	resp := f.e.Do(t, method, path, f.owner.Token, body)
	f.mu.Lock()
	f.bodies = append(f.bodies, resp.Body)
	f.mu.Unlock()
	return resp
}

// register adds host as a VPS and returns the VPS and operation ids.
func (f *fleet) register(t *testing.T, name string, h testhost.Host, extra map[string]any) (string, string) {
	t.Helper()
	body := map[string]any{"name": name, "host": h.Address, "port": h.SSHPort, "ssh_user": h.User, "ssh_private_key": string(h.PrivateKey)}
	for k, v := range extra {
		body[k] = v
	}
	resp := f.do(t, http.MethodPost, "/api/v1/vps", body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("register %s: %d %s", name, resp.Status, resp.Body)
	}
	var out struct {
		VPS       struct{ ID string } `json:"vps"`
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &out)
	return out.VPS.ID, out.Operation.ID
}

// waitOperation polls an operation until it succeeds or fails.
func (f *fleet) waitOperation(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		op := f.do(t, http.MethodGet, "/api/v1/operations/"+id, nil).Map(t)
		if op["status"] == "succeeded" || op["status"] == "failed" {
			return op
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("operation %s did not finish", id)
	return nil
}

func (f *fleet) vps(t *testing.T, id string) map[string]any {
	t.Helper()
	resp := f.do(t, http.MethodGet, "/api/v1/vps/"+id, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("get vps: %d %s", resp.Status, resp.Body)
	}
	return resp.Map(t)
}

func (f *fleet) health(t *testing.T, id string) map[string]any {
	t.Helper()
	resp := f.do(t, http.MethodPost, "/api/v1/vps/"+id+"/health", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("health: %d %s", resp.Status, resp.Body)
	}
	return resp.Map(t)
}

// hostState summarises what bootstrap manages on a host: nginx's own
// configuration (not the per-site files other tests write to chom.d), the
// CHOM directories, and the package database.
func hostState(t *testing.T, h testhost.Host) string {
	t.Helper()
	out, err := h.Exec(t, "sh", "-c", `set -e
find /etc/nginx -path /etc/nginx/chom.d -prune -o -printf '%p %m %u %g %s %T@ %l\n' | sort
find /etc/nginx -path /etc/nginx/chom.d -prune -o -type f -exec sha256sum {} + | sort
stat -c '%n %a %U %G %F' /etc/nginx/chom.d /srv/chom /srv/chom/sites /srv/chom/backups /srv/chom/tmp
sha256sum /var/lib/dpkg/status
stat -c '%n %s' /var/log/dpkg.log /var/log/apt/history.log 2>/dev/null || true`)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIntegrationVPSBootstrap registers every test host through the API:
// each ends active with its facts, pinned to its real host key. Bootstrap
// run again on a bootstrapped host changes nothing and installs nothing.
func TestIntegrationVPSBootstrap(t *testing.T) {
	hosts := testhost.Hosts(t)
	f := newFleet(t)
	h1 := hosts[0]

	var ids []string
	for i, h := range hosts {
		extra := map[string]any{"labels": map[string]string{"host": h.Name}}
		if i == 0 {
			extra["expected_host_key_fingerprint"] = h.HostKeyFingerprint
		}
		id, opID := f.register(t, "vps-"+h.Name, h, extra)
		op := f.waitOperation(t, opID)
		if op["status"] != "succeeded" {
			t.Fatalf("bootstrap of %s: %v\n%v", h.Name, op["error"], op["log"])
		}
		v := f.vps(t, id)
		health, _ := v["last_health"].(map[string]any)
		if v["status"] != "active" || !strings.Contains(fmt.Sprint(v["os"]), "Debian") || v["cpu_count"].(float64) <= 0 ||
			v["memory_bytes"].(float64) <= 0 || v["disk_bytes"].(float64) <= 0 ||
			!slices.Contains(anyStrings(v["php_versions"]), "8.2") || v["host_key_fingerprint"] != h.HostKeyFingerprint ||
			v["host_public_key"] != h.HostPublicKey || health == nil || health["reachable"] != true ||
			health["nginx_running"] != true || health["php_fpm_running"] != true {
			t.Fatalf("%s after bootstrap: %v", h.Name, v)
		}
		ids = append(ids, id)
	}
	if status, _, err := h1.HTTPGet(t, "no-such-site.invalid", "/"); err != nil || status != http.StatusNotFound {
		t.Errorf("unknown host name on %s: %d %v", h1.Name, status, err)
	}

	// The same host registered again is bootstrapped again: nothing changes.
	before := hostState(t, h1)
	_, opID := f.register(t, "vps-h1-again", h1, nil)
	op := f.waitOperation(t, opID)
	if op["status"] != "succeeded" {
		t.Fatalf("second bootstrap: %v\n%v", op["error"], op["log"])
	}
	if after := hostState(t, h1); after != before {
		t.Errorf("the second bootstrap changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	log := fmt.Sprint(op["log"])
	if strings.Contains(log, ": done") || strings.Count(log, "already in place, nothing changed") < 10 {
		t.Errorf("the second bootstrap did not find everything in place:\n%s", log)
	}

	// A health check now reads the same host.
	if v := f.health(t, ids[0]); v["status"] != "active" || v["last_health"].(map[string]any)["error"] != nil {
		t.Errorf("health after bootstrap: %v", v)
	}
	sweepForKey(t, f, string(h1.PrivateKey))
}

// TestIntegrationVPSWrongFingerprint refuses a server whose host key does
// not have the expected fingerprint, without retrying.
func TestIntegrationVPSWrongFingerprint(t *testing.T) {
	hosts := testhost.Hosts(t)
	if len(hosts) < 2 {
		t.Skip("needs two hosts")
	}
	f := newFleet(t)
	id, opID := f.register(t, "impostor", hosts[0], map[string]any{"expected_host_key_fingerprint": hosts[1].HostKeyFingerprint})
	op := f.waitOperation(t, opID)
	if op["status"] != "failed" || op["attempts"] != float64(1) || !strings.Contains(fmt.Sprint(op["error"]), "fingerprint") ||
		!strings.Contains(fmt.Sprint(op["error"]), hosts[1].HostKeyFingerprint) {
		t.Fatalf("operation: %v", op)
	}
	t.Logf("refused: %s", op["error"])
	if v := f.vps(t, id); v["status"] != "error" || v["host_key_fingerprint"] != nil {
		t.Fatalf("vps after a refused key: %v", v)
	}

	// Expecting the right fingerprint bootstraps it.
	resp := f.do(t, http.MethodPatch, "/api/v1/vps/"+id, map[string]any{"expected_host_key_fingerprint": hosts[0].HostKeyFingerprint})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("patch fingerprint: %d %s", resp.Status, resp.Body)
	}
	var out struct {
		Operation struct{ ID, Kind string } `json:"operation"`
	}
	resp.Decode(t, &out)
	if op := f.waitOperation(t, out.Operation.ID); out.Operation.Kind != "vps.bootstrap" || op["status"] != "succeeded" {
		t.Fatalf("bootstrap with the right fingerprint (%s): %v", out.Operation.Kind, op["error"])
	}
	if v := f.vps(t, id); v["status"] != "active" || v["host_key_fingerprint"] != hosts[0].HostKeyFingerprint {
		t.Fatalf("vps: %v", v)
	}
	sweepForKey(t, f, string(hosts[0].PrivateKey))
}

// TestIntegrationVPSHostKeyChanged gives a pinned host a new host key: the
// health check refuses it and says so, and the VPS recovers once the key
// is back.
func TestIntegrationVPSHostKeyChanged(t *testing.T) {
	hosts := testhost.Hosts(t)
	h := hosts[len(hosts)-1]
	f := newFleet(t)
	id, opID := f.register(t, "rekeyed", h, nil)
	if op := f.waitOperation(t, opID); op["status"] != "succeeded" {
		t.Fatalf("bootstrap: %v", op["error"])
	}

	// A new key of the same type, as a reinstalled server would have.
	keyFile := hostKeyFile(t, h)
	if _, err := h.Exec(t, "sh", "-c", `set -e
k=$1
type=${k##*/ssh_host_}
type=${type%_key}
cp -p "$k" "$k.chom-test-orig"
cp -p "$k.pub" "$k.pub.chom-test-orig"
rm -f "$k" "$k.pub"
ssh-keygen -q -t "$type" -N '' -C '' -f "$k"`, "sh", keyFile); err != nil {
		t.Fatal(err)
	}
	// Every connection must go, as on a reinstalled server. The cleanups
	// run in reverse: the original key is back before sshd is restarted.
	h.StopSSHD(t)
	restored := false
	restore := func() {
		if _, err := h.Exec(t, "sh", "-c", `set -e
k=$1
if [ -e "$k.chom-test-orig" ]; then mv -f "$k.chom-test-orig" "$k"; mv -f "$k.pub.chom-test-orig" "$k.pub"; fi`, "sh", keyFile); err != nil {
			t.Errorf("restore the host key of %s: %v", h.Name, err)
		}
		restored = true
	}
	t.Cleanup(func() {
		if !restored {
			restore()
			h.StopSSHD(t)
		}
	})
	if _, err := h.Exec(t, "/usr/sbin/sshd", "-E", "/var/log/sshd.log"); err != nil {
		t.Fatal(err)
	}

	v := f.health(t, id)
	health := v["last_health"].(map[string]any)
	if v["status"] != "error" || health["reachable"] != false || !strings.Contains(fmt.Sprint(health["error"]), "host key") ||
		!strings.Contains(fmt.Sprint(health["error"]), "changed") {
		t.Fatalf("health with a new host key: %v", v)
	}
	t.Logf("refused: %s", health["error"])
	if v["host_key_fingerprint"] != h.HostKeyFingerprint {
		t.Fatalf("the pin moved: %v", v["host_key_fingerprint"])
	}

	restore()
	h.StopSSHD(t)
	h.StartSSHD(t)
	if v := f.health(t, id); v["status"] != "active" {
		t.Fatalf("health with the key restored: %v", v)
	}
}

// hostKeyFile is the host key sshd serves on h (one key per test host).
func hostKeyFile(t *testing.T, h testhost.Host) string {
	t.Helper()
	out, err := h.Exec(t, "sh", "-c", `awk '$1 == "HostKey" { print $2; exit }' /etc/ssh/sshd_config`)
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("find the host key of %s: %q %v", h.Name, out, err)
	}
	return strings.TrimSpace(out)
}

// TestIntegrationVPSUnreachable stops a host's sshd: the health check
// makes the VPS unreachable; once sshd is back, the periodic check makes it
// active again by itself.
func TestIntegrationVPSUnreachable(t *testing.T) {
	hosts := testhost.Hosts(t)
	h := hosts[len(hosts)-1]
	f := newFleet(t, apitest.WithEnv("CHOM_HEALTH_INTERVAL", "2s"))
	id, opID := f.register(t, "flaky", h, nil)
	if op := f.waitOperation(t, opID); op["status"] != "succeeded" {
		t.Fatalf("bootstrap: %v", op["error"])
	}

	h.StopSSHD(t)
	v := f.health(t, id)
	health := v["last_health"].(map[string]any)
	if v["status"] != "unreachable" || health["reachable"] != false || health["error"] == nil {
		t.Fatalf("health with sshd stopped: %v", v)
	}

	h.StartSSHD(t)
	deadline := time.Now().Add(90 * time.Second)
	for {
		v = f.vps(t, id)
		if v["status"] == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the periodic check did not bring the VPS back: %v", v)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if health := v["last_health"].(map[string]any); health["reachable"] != true || health["error"] != nil {
		t.Fatalf("last health after recovery: %v", health)
	}
}

// sweepForKey fails when the private key, or any line of its body, is in
// the database, the server's logs or any response the test received.
func sweepForKey(t *testing.T, f *fleet, key string) {
	t.Helper()
	var needles []string
	for _, line := range strings.Split(key, "\n") {
		if len(line) >= 20 && !strings.HasPrefix(line, "-----") {
			needles = append(needles, line)
		}
	}
	if len(needles) == 0 {
		t.Fatal("the key has no body to look for")
	}
	needles = append(needles, key)
	check := func(where, text string) {
		for _, n := range needles {
			if strings.Contains(text, n) {
				t.Errorf("the private key is in clear in %s", where)
				return
			}
		}
	}
	check("the server logs", f.e.Logs.String())
	f.mu.Lock()
	for _, b := range f.bodies {
		check("a response body", string(b))
	}
	f.mu.Unlock()
	dump, tables := dumpDatabase(t, f.e.Server.Store)
	if !slices.Contains(tables, "vps") || !strings.Contains(dump, "v1:") {
		t.Fatalf("the database dump missed the sealed keys (tables %v)", tables)
	}
	check("the database", dump)
}

// dumpDatabase returns the text of every column of every row of every
// table, and the tables read.
func dumpDatabase(t *testing.T, st *store.Store) (string, []string) {
	t.Helper()
	db := st.SQLDB()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if st.Dialect() == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	tables := queryStrings(t, db, q)
	var b strings.Builder
	for _, table := range tables {
		dumpTable(t, db, table, &b)
	}
	return b.String(), tables
}

func dumpTable(t *testing.T, db *sql.DB, table string, b *strings.Builder) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for _, v := range values {
			if raw, ok := v.([]byte); ok {
				b.Write(raw)
			} else {
				fmt.Fprint(b, v)
			}
			b.WriteByte('\n')
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}
