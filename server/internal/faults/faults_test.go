package faults_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/testhost"
)

func TestMain(m *testing.M) {
	if os.Getenv("CHOM_FAULTS") != "1" {
		fmt.Println("faults: skipped; the fault-injection suite runs with CHOM_FAULTS=1 (make faults)")
		os.Exit(0)
	}
	code := m.Run()
	if code == 0 && !seen.sweep() {
		code = 1
	}
	os.Exit(code)
}

// seen is what the whole suite saw: the secrets its tests used and every
// place they must not appear. Each test checks its own places when it
// ends; TestMain checks everything against everything once all have run.
var seen = &evidence{secrets: map[string]string{}}

type evidence struct {
	mu      sync.Mutex
	secrets map[string]string // value → what it is
	places  []place
}

// place is text that must hold no secret: a database dump, a server log,
// the response bodies of a test.
type place struct{ kind, name, text string }

// secret records a value that must appear nowhere but where it was minted.
// Values too short to search for without chance matches are not kept.
func (ev *evidence) secret(what, value string) {
	if len(value) < 12 {
		return
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.secrets[value] = what
}

// privateKey records every line of a PEM private key's body.
func (ev *evidence) privateKey(what string, pem []byte) {
	for i, line := range strings.Split(string(pem), "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			ev.secret(fmt.Sprintf("%s (line %d)", what, i+1), strings.TrimSpace(line))
		}
	}
}

func (ev *evidence) keep(p place) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.places = append(ev.places, p)
}

// leaks lists the secrets found in places. The suite collects thousands
// of secrets and megabytes of dumps, so each length of secret is searched
// for in one pass with a rolling hash.
func (ev *evidence) leaks(places []place) []string {
	ev.mu.Lock()
	byLen := map[int]map[uint64][]string{}
	for value := range ev.secrets {
		if byLen[len(value)] == nil {
			byLen[len(value)] = map[uint64][]string{}
		}
		h := rollingHash(value)
		byLen[len(value)][h] = append(byLen[len(value)][h], value)
	}
	secrets := maps.Clone(ev.secrets)
	ev.mu.Unlock()
	var out []string
	for _, p := range places {
		for n, hashes := range byLen {
			forEachWindow(p.text, n, func(i int, h uint64) {
				for _, value := range hashes[h] {
					if p.text[i:i+n] == value {
						out = append(out, fmt.Sprintf("%s found in %s %s", secrets[value], p.kind, p.name))
					}
				}
			})
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

const hashBase = 1_000_003

func rollingHash(s string) uint64 {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*hashBase + uint64(s[i])
	}
	return h
}

// forEachWindow calls fn with the start and rolling hash of every n-byte
// window of text.
func forEachWindow(text string, n int, fn func(i int, h uint64)) {
	if len(text) < n {
		return
	}
	var pow uint64 = 1
	for range n - 1 {
		pow *= hashBase
	}
	h := rollingHash(text[:n])
	fn(0, h)
	for i := n; i < len(text); i++ {
		h = (h-uint64(text[i-n])*pow)*hashBase + uint64(text[i])
		fn(i-n+1, h)
	}
}

// sweep checks every place the suite kept, and the Terraform state files
// left on this machine, against every secret the suite used.
func (ev *evidence) sweep() bool {
	places := append([]place(nil), ev.places...)
	states := terraformStates()
	places = append(places, states...)
	kinds := map[string]int{}
	for _, p := range places {
		kinds[p.kind]++
	}
	leaks := ev.leaks(places)
	fmt.Printf("secrets sweep: %d secrets against %d database dumps, %d server logs, %d sets of response bodies, %d Terraform state files\n",
		len(ev.secrets), kinds["database"], kinds["log"], kinds["responses"], kinds["terraform state"])
	for _, l := range leaks {
		fmt.Println("LEAK:", l)
	}
	return len(leaks) == 0
}

// terraformStates reads the state files the provider's acceptance tests
// may have left: in the working directories the testing framework and the
// tests make in the temporary directory, and under the provider's sources.
func terraformStates() []place {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, filepath.Join(wd, "..", "..", "..", "provider"))
	}
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && name != "chom-testhosts" &&
			(strings.HasPrefix(name, "plugintest") || strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "chom-") || strings.HasPrefix(name, "tf")) {
			roots = append(roots, filepath.Join(os.TempDir(), name))
		}
	}
	var out []place
	for _, root := range roots {
		base := strings.Count(filepath.Clean(root), string(filepath.Separator))
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && strings.Count(path, string(filepath.Separator))-base > 6 {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.Contains(d.Name(), ".tfstate") {
				if b, err := os.ReadFile(path); err == nil {
					out = append(out, place{kind: "terraform state", name: path, text: string(b)})
				}
			}
			return nil
		})
	}
	return out
}

// mintingRoutes answer with a secret meant for the caller; their bodies
// are where secrets are collected, not where they must be absent.
var mintingRoutes = []string{
	"POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/tokens", "POST /api/v1/team/members",
	"POST /api/v1/invitations/accept", "POST /api/v1/me/2fa/enroll", "POST /api/v1/me/2fa/confirm",
	"POST /api/v1/me/2fa/recovery-codes", "GET /api/v1/sites/{id}/credentials",
}

// secretFields are the response fields that carry secrets.
var secretFields = []string{"token", "invitation_token", "database_password", "secret", "recovery_codes", "password"}

// bodies collects a test's response bodies, and the secrets minted ones
// carry.
type bodies struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *bodies) observe(method, path string, status int, body []byte) {
	route := method + " " + routeOf(path)
	if slices.Contains(mintingRoutes, route) && status < 300 {
		collectSecrets(route, body)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(body)
	b.buf.WriteByte('\n')
}

// routeOf replaces the ids in a path by {id}.
func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i > 0 && i < len(parts) && len(p) >= 32 && strings.Count(p, "-") == 4 {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

func collectSecrets(route string, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				walk(k, y)
			}
		case []any:
			for _, y := range x {
				walk(key, y)
			}
		case string:
			if slices.Contains(secretFields, key) {
				seen.secret(key+" from "+route, x)
			}
		}
	}
	walk("", v)
}

// client calls an Env as one caller, checking every exchange against the
// OpenAPI document and keeping every body for the secrets sweep.
type client struct {
	e      *apitest.Env
	token  string
	bodies *bodies
}

func (c *client) do(t testing.TB, method, path string, body any, opts ...apitest.RequestOption) *apitest.Response {
	t.Helper()
	resp := c.e.Do(t, method, path, c.token, body, opts...)
	c.bodies.observe(method, path, resp.Status, resp.Body)
	return resp
}

// as returns a client with another token and the same body log.
func (c *client) as(token string) *client { return &client{e: c.e, token: token, bodies: c.bodies} }

// wait polls an operation until it has finished.
func (c *client) wait(t testing.TB, id string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp := c.do(t, http.MethodGet, "/api/v1/operations/"+id, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("operation %s: %d %s", id, resp.Status, resp.Body)
		}
		op := resp.Map(t)
		if op["status"] == "succeeded" || op["status"] == "failed" {
			return op
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("operation %s did not finish within %s", id, within)
	return nil
}

// watched is a control plane under the suite's eye: its owner, and a
// client that keeps every response.
type watched struct {
	*client
	owner *apitest.Tenant
	// earlierLogs are the logs of processes the test has replaced.
	earlierLogs []string
}

// watch registers an owner on e and, when the test ends, keeps e's
// database dump, its log and the test's response bodies for the secrets
// sweep, and checks them against the secrets known by then. dbURL names
// the database when e is a separate process (e.Server is nil).
func watch(t *testing.T, e *apitest.Env, dbURL string) *watched {
	t.Helper()
	b := &bodies{}
	w := &watched{client: &client{e: e, bodies: b}}
	t.Cleanup(func() {
		// The Env the test talks to last: a restarted process's.
		e := w.e
		var dump string
		if e.Server != nil {
			dump, _ = dumpDB(t, e.Server.Store.SQLDB(), e.Server.Store.Dialect())
		} else {
			st, err := store.Open(context.Background(), dbURL, nil)
			if err != nil {
				t.Errorf("open the database for the secrets sweep: %v", err)
				return
			}
			dump, _ = dumpDB(t, st.SQLDB(), st.Dialect())
			_ = st.Close()
		}
		mine := []place{
			{kind: "database", name: t.Name(), text: dump},
			{kind: "log", name: t.Name(), text: e.Logs.String() + strings.Join(w.earlierLogs, "\n")},
			{kind: "responses", name: t.Name(), text: b.buf.String()},
		}
		if key, err := os.ReadFile(filepath.Join(e.DataDir, "master.key")); err == nil {
			seen.secret("master key of "+t.Name(), strings.TrimSpace(string(key)))
		}
		for _, p := range mine {
			seen.keep(p)
		}
		for _, l := range seen.leaks(mine) {
			t.Errorf("secret leaked: %s", l)
		}
	})
	w.owner = w.register(t, "faults")
	w.token = w.owner.Token
	return w
}

// register signs up another owner, keeping their password and token.
func (w *watched) register(t *testing.T, name string) *apitest.Tenant {
	t.Helper()
	o := w.e.Register(t, name)
	seen.secret("password of "+o.Email, o.Password)
	seen.secret("token of "+o.Email, o.Token)
	return o
}

// newToken mints a token of the owner's and returns its id and plaintext.
func (w *watched) newToken(t *testing.T, name string) (id, token string) {
	t.Helper()
	resp := w.do(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": name, "abilities": []string{"read", "write", "admin"}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("new token: %d %s", resp.Status, resp.Body)
	}
	var out struct{ ID, Token string }
	resp.Decode(t, &out)
	return out.ID, out.Token
}

// seedVPS inserts an active server of the organization straight into the
// store, with capacity sites of room of which allocated are taken. Its
// address is one the control plane refuses to dial: operations that reach
// for it fail at once. For tests about the control plane alone.
func seedVPS(t *testing.T, e *apitest.Env, orgID string, capacity, allocated int) string {
	t.Helper()
	now := time.Now().UTC()
	v := &store.VPS{
		ID: store.NewID(), OrganizationID: orgID, Name: "seeded-" + store.NewID()[:8], Host: "0.0.0.0", Port: 22, SSHUser: "root",
		Capacity: capacity, SitesAllocated: allocated, Status: store.VPSActive, PHPVersions: []string{"8.2"},
		BootstrappedAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	v.SSHKeySealed = e.Server.Box.Seal([]byte("not a key"), store.VPSKeyContext(v.ID))
	if err := e.Server.Store.CreateVPS(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// registerVPS registers a test host through the API and waits for its
// bootstrap; the host's private key joins the secrets.
func (w *watched) registerVPS(t *testing.T, h testhost.Host, capacity int) string {
	t.Helper()
	seen.privateKey("private key of test host "+h.Name, h.PrivateKey)
	resp := w.do(t, http.MethodPost, "/api/v1/vps", map[string]any{
		"name": "faults-" + h.Name, "host": h.Address, "port": h.SSHPort, "ssh_user": h.User, "capacity": capacity,
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
	if op := w.wait(t, out.Operation.ID, 5*time.Minute); op["status"] != "succeeded" {
		t.Fatalf("bootstrap of %s: %v", h.Name, op["error"])
	}
	return out.VPS.ID
}

// site is a site as the API returns it.
type site struct {
	ID         string `json:"id"`
	Domain     string `json:"domain"`
	Type       string `json:"type"`
	VPSID      string `json:"vps_id"`
	Status     string `json:"status"`
	SystemUser string `json:"system_user"`
}

// startSite sends POST /api/v1/sites and returns the site and its
// operation's id.
func (w *watched) startSite(t *testing.T, body map[string]any) (site, string) {
	t.Helper()
	resp := w.do(t, http.MethodPost, "/api/v1/sites", body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("create site %v: %d %s", body["domain"], resp.Status, resp.Body)
	}
	var out struct {
		Site      site                `json:"site"`
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &out)
	return out.Site, out.Operation.ID
}

// getSite returns the site as it is now.
func (w *watched) getSite(t *testing.T, id string) site {
	t.Helper()
	resp := w.do(t, http.MethodGet, "/api/v1/sites/"+id, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("get site %s: %d %s", id, resp.Status, resp.Body)
	}
	var s site
	resp.Decode(t, &s)
	return s
}

// removeSites deletes sites when the test ends, whatever became of them,
// so that the hosts are left as they were found.
func (w *watched) removeSites(t *testing.T, ids *[]string) {
	t.Cleanup(func() {
		var ops []string
		for _, id := range *ids {
			resp := w.do(t, http.MethodDelete, "/api/v1/sites/"+id, nil)
			if resp.Status != http.StatusAccepted {
				if resp.Status != http.StatusNotFound {
					t.Logf("clean up site %s: %d %s", id, resp.Status, resp.Body)
				}
				continue
			}
			var out struct {
				Operation struct{ ID string } `json:"operation"`
			}
			resp.Decode(t, &out)
			ops = append(ops, out.Operation.ID)
		}
		for _, op := range ops {
			if got := w.wait(t, op, 5*time.Minute); got["status"] != "succeeded" {
				t.Logf("clean up: delete operation %s: %v", op, got["error"])
			}
		}
	})
}

// onHost runs a shell script inside a test host, failing the test on error.
func onHost(t *testing.T, h testhost.Host, script string, args ...string) string {
	t.Helper()
	out, err := h.Exec(t, append([]string{"sh", "-c", script, "sh"}, args...)...)
	if err != nil {
		t.Fatalf("on %s: %v", h.Name, err)
	}
	return strings.TrimSpace(out)
}

// siteFootprint counts, on the host, what a site called user has there:
// users, groups, PHP-FPM pools, nginx server blocks, databases and
// database users of that name.
func siteFootprint(t *testing.T, h testhost.Host, user string) string {
	t.Helper()
	return onHost(t, h, `
printf 'user=%s ' "$(getent passwd | grep -c "^$1:")"
printf 'group=%s ' "$(getent group | grep -c "^$1:")"
printf 'pool=%s ' "$(ls /etc/php/*/fpm/pool.d/ 2>/dev/null | grep -c "^$1\.conf$")"
printf 'nginx=%s ' "$(ls /etc/nginx/chom.d/ 2>/dev/null | grep -c "^$1\.conf$")"
printf 'db=%s ' "$(mariadb -N -B -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1'")"
printf 'dbuser=%s' "$(mariadb -N -B -e "SELECT COUNT(*) FROM mysql.user WHERE User = '$1'")"`, user)
}

// hostState is a checksum of what CHOM manages on a host: nginx's and
// PHP's configuration, the sites' files, and the users and groups.
func hostState(t *testing.T, h testhost.Host) string {
	t.Helper()
	return onHost(t, h, `{
find /etc/nginx /etc/php /srv/chom -xdev -printf '%p %y %m %u %g %s\n' 2>/dev/null | sort
find /etc/nginx /etc/php /srv/chom -xdev -type f -print0 2>/dev/null | sort -z | xargs -0r sha256sum
sha256sum /etc/passwd /etc/group
} | sha256sum | cut -d' ' -f1`)
}

// tableSum is one table's row count and a checksum of its rows.
type tableSum struct {
	Rows int
	Sum  string
}

// volatileColumns change without any request asking for it.
var volatileColumns = map[string][]string{
	// Touched at most once a minute by authentication.
	"api_tokens": {"last_used_at"},
}

// dumpDB renders every row of every table as text, for the secrets sweep,
// and sums each table, for comparisons before and after. Tables of the job
// runtime's own bookkeeping (river_*) are dumped but not summed.
func dumpDB(t testing.TB, db *sql.DB, dialect store.Dialect) (string, map[string]tableSum) {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if dialect == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	tables, err := queryStrings(ctx, db, q)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var dump strings.Builder
	sums := map[string]tableSum{}
	for _, table := range tables {
		lines, err := tableRows(ctx, db, table)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		dump.WriteString("## " + table + "\n" + strings.Join(lines, "\n") + "\n")
		if !strings.HasPrefix(table, "river_") {
			h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
			sums[table] = tableSum{Rows: len(lines), Sum: hex.EncodeToString(h[:8])}
		}
	}
	return dump.String(), sums
}

// tableRows renders every row of table as one line of column=value pairs,
// volatile columns left out, sorted.
func tableRows(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var line strings.Builder
		for i, v := range vals {
			if slices.Contains(volatileColumns[table], cols[i]) {
				continue
			}
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(&line, "%s=%v\t", cols[i], v)
		}
		lines = append(lines, line.String())
	}
	sort.Strings(lines)
	return lines, rows.Err()
}

func queryStrings(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// percentile returns the p-th percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// suffix makes names unique across runs on the shared test hosts.
func suffix() string { return strings.ToLower(store.NewID()[:8]) }

// TestSecretsSweepFindsWhatItLooksFor keeps the sweep honest: a secret
// planted in a place is reported, wherever it sits, and nothing else is.
func TestSecretsSweepFindsWhatItLooksFor(t *testing.T) {
	ev := &evidence{secrets: map[string]string{}}
	ev.secret("token", "chom_abcdefghijklmnopqrstuvwxyz234567")
	ev.secret("password", "pw-ZYXWVUTSRQPONMLK")
	ev.secret("too short to search for", "abc")
	places := []place{
		{kind: "log", name: "start", text: "chom_abcdefghijklmnopqrstuvwxyz234567 at the start"},
		{kind: "log", name: "end", text: "at the end: pw-ZYXWVUTSRQPONMLK"},
		{kind: "log", name: "clean", text: "chom_abcdefghijklmnopqrstuvwxyz23456 (one short) pw-ZYXWVUTSRQPONML abc"},
	}
	got := ev.leaks(places)
	want := []string{"password found in log end", "token found in log start"}
	if !slices.Equal(got, want) {
		t.Fatalf("leaks = %q, want %q", got, want)
	}
}
