package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
)

func newPrivateKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

// vpsEnv allows the test networks, where nothing answers in these tests:
// the job workers are not started, so no connection is ever made.
func vpsEnv(t *testing.T, opts ...apitest.Option) *apitest.Env {
	return apitest.New(t, append([]apitest.Option{apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "10.77.0.0/16")}, opts...)...)
}

// keyMarker is a line of the key's base64 body: it must appear nowhere.
func keyMarker(key string) string {
	lines := strings.Split(key, "\n")
	return lines[1]
}

func TestVPSCreateAndRead(t *testing.T) {
	e := vpsEnv(t)
	owner := e.Register(t, "fleet")
	key := newPrivateKey(t)
	var bodies [][]byte

	resp := e.Do(t, http.MethodPost, "/api/v1/vps", owner.Token, map[string]any{
		"name": "web-1", "host": "10.77.1.2", "ssh_private_key": key,
		"labels": map[string]string{"env": "prod"}, "capacity": 20,
	})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	bodies = append(bodies, resp.Body)
	var created struct {
		VPS       map[string]any `json:"vps"`
		Operation map[string]any `json:"operation"`
	}
	resp.Decode(t, &created)
	v, op := created.VPS, created.Operation
	if v["status"] != "pending" || v["port"] != float64(22) || v["ssh_user"] != "root" || v["capacity"] != float64(20) ||
		v["host_key_fingerprint"] != nil || v["last_health"] != nil || v["sites_allocated"] != float64(0) {
		t.Fatalf("created vps %v", v)
	}
	if op["kind"] != "vps.bootstrap" || op["target_type"] != "vps" || op["target_id"] != v["id"] || op["status"] != "queued" {
		t.Fatalf("operation %v", op)
	}
	if _, ok := v["ssh_private_key"]; ok {
		t.Fatal("the private key is returned")
	}

	id := v["id"].(string)
	resp = e.Do(t, http.MethodGet, "/api/v1/vps/"+id, owner.Token, nil)
	bodies = append(bodies, resp.Body)
	got := resp.Map(t)
	// Every setting a create accepts reads back as sent (or defaulted).
	for k, want := range map[string]any{"name": "web-1", "host": "10.77.1.2", "port": float64(22), "ssh_user": "root",
		"expected_host_key_fingerprint": nil, "capacity": float64(20)} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if labels, _ := got["labels"].(map[string]any); labels["env"] != "prod" || len(labels) != 1 {
		t.Errorf("labels %v", got["labels"])
	}

	resp = e.Do(t, http.MethodGet, "/api/v1/vps", owner.Token, nil)
	bodies = append(bodies, resp.Body)
	var list struct {
		Data       []map[string]any `json:"data"`
		Pagination struct{ Total int }
	}
	resp.Decode(t, &list)
	if list.Pagination.Total != 1 || list.Data[0]["id"] != id {
		t.Fatalf("list %s", resp.Body)
	}
	resp = e.Do(t, http.MethodGet, "/api/v1/vps?status=active", owner.Token, nil)
	resp.Decode(t, &list)
	if list.Pagination.Total != 0 {
		t.Fatalf("status filter: %s", resp.Body)
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/vps?status=bogus", owner.Token, nil, apitest.Invalid()); resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad status filter: %d", resp.Status)
	}
	// By name: the one server, and never another organization's namesake.
	other := e.Register(t, "other-fleet")
	if resp := e.Do(t, http.MethodPost, "/api/v1/vps", other.Token, map[string]any{"name": "web-2", "host": "10.77.1.2", "ssh_private_key": key}); resp.Status != http.StatusAccepted {
		t.Fatalf("other create: %d %s", resp.Status, resp.Body)
	}
	for name, want := range map[string]int{"web-1": 1, "web-2": 0, "web": 0} {
		resp = e.Do(t, http.MethodGet, "/api/v1/vps?name="+name, owner.Token, nil)
		resp.Decode(t, &list)
		if list.Pagination.Total != want || (want == 1 && list.Data[0]["id"] != id) {
			t.Fatalf("name filter %q: %s", name, resp.Body)
		}
	}

	// Stored sealed, bound to the row.
	row, err := e.Server.Store.VPS(context.Background(), owner.OrgID, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row.SSHKeySealed, keyMarker(key)) || strings.Contains(row.SSHKeySealed, "PRIVATE KEY") {
		t.Fatal("the key is stored in clear")
	}
	if plain, err := e.Server.Box.Open(row.SSHKeySealed, store.VPSKeyContext(id)); err != nil || string(plain) != key {
		t.Fatalf("sealed key does not open: %v", err)
	}

	// The audit log has the creation, without the key.
	resp = e.Do(t, http.MethodGet, "/api/v1/audit-logs?target_id="+id, owner.Token, nil)
	bodies = append(bodies, resp.Body)
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "vps.create") {
		t.Errorf("audit log lacks vps.create: %d %s", resp.Status, resp.Body)
	}
	for _, b := range bodies {
		if strings.Contains(string(b), keyMarker(key)) || strings.Contains(string(b), "PRIVATE KEY") {
			t.Fatalf("a response carries the private key: %s", b)
		}
	}
	if strings.Contains(e.Logs.String(), keyMarker(key)) {
		t.Fatal("the server logged the private key")
	}
}

func TestVPSCreateValidation(t *testing.T) {
	key := newPrivateKey(t)
	tests := []struct {
		name   string
		env    []apitest.Option
		body   map[string]any
		fields []string
	}{
		{name: "nothing", body: map[string]any{}, fields: []string{"name", "host", "ssh_private_key"}},
		{name: "everything wrong", body: map[string]any{
			"name": strings.Repeat("n", 64), "host": "not a host!", "port": 70000, "ssh_user": "9 lives",
			"ssh_private_key": "-----BEGIN NOTHING-----", "expected_host_key_fingerprint": "MD5:aa",
			"labels": map[string]string{"bad key": "x"}, "capacity": 0,
		}, fields: []string{"name", "host", "port", "ssh_user", "ssh_private_key", "expected_host_key_fingerprint", "labels", "capacity"}},
		{name: "metadata address", body: map[string]any{"name": "m", "host": "169.254.169.254", "ssh_private_key": key}, fields: []string{"host"}},
		{name: "link-local v6", body: map[string]any{"name": "m", "host": "fe80::1", "ssh_private_key": key}, fields: []string{"host"}},
		{name: "outside the allowed networks", body: map[string]any{"name": "m", "host": "10.78.0.1", "ssh_private_key": key}, fields: []string{"host"}},
		{name: "loopback by default", env: []apitest.Option{apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "")},
			body: map[string]any{"name": "m", "host": "127.0.0.1", "ssh_private_key": key}, fields: []string{"host"}},
		{name: "private by default", env: []apitest.Option{apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "")},
			body: map[string]any{"name": "m", "host": "10.77.1.2", "ssh_private_key": key}, fields: []string{"host"}},
		{name: "name that does not resolve", body: map[string]any{"name": "m", "host": "vps.invalid", "ssh_private_key": key}, fields: []string{"host"}},
		{name: "bad label value", body: map[string]any{"name": "m", "host": "10.77.1.2", "ssh_private_key": key,
			"labels": map[string]string{"env": "a\tb"}}, fields: []string{"labels.env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := vpsEnv(t, tt.env...)
			owner := e.Register(t, "fleet")
			resp := e.Do(t, http.MethodPost, "/api/v1/vps", owner.Token, tt.body, apitest.Invalid())
			if resp.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d %s", resp.Status, resp.Body)
			}
			fields := resp.ErrorFields(t)
			for _, f := range tt.fields {
				if fields[f] == "" {
					t.Errorf("field %s not named: %v", f, fields)
				}
			}
			if len(fields) != len(tt.fields) {
				t.Errorf("fields %v, want exactly %v", fields, tt.fields)
			}
			if strings.Contains(string(resp.Body), "BEGIN") {
				t.Errorf("the error echoes the key: %s", resp.Body)
			}
			// Nothing was written: no server, no operation, no audit entry.
			ctx := context.Background()
			if n, err := e.Server.Store.CountVPS(ctx, owner.OrgID); err != nil || n != 0 {
				t.Errorf("%d servers stored (%v)", n, err)
			}
			ops, _, err := e.Server.Store.ListOperations(ctx, owner.OrgID, store.OperationFilter{}, store.Page{Limit: 10})
			if err != nil || len(ops) != 0 {
				t.Errorf("%d operations stored (%v)", len(ops), err)
			}
			var audits int64
			if err := e.Server.Store.SQLDB().QueryRowContext(ctx,
				"SELECT COUNT(*) FROM audit_logs WHERE organization_id = $1 AND action LIKE 'vps.%'", owner.OrgID).Scan(&audits); err != nil || audits != 0 {
				t.Errorf("%d audit entries (%v)", audits, err)
			}
		})
	}
}

func TestVPSConflictsQuotaAndRoles(t *testing.T) {
	e := vpsEnv(t, apitest.WithEnv("CHOM_DEFAULT_MAX_VPS", "2"))
	te := newTeamEnv(t, e)
	key := newPrivateKey(t)
	create := func(token, name string) *apitest.Response {
		return e.Do(t, http.MethodPost, "/api/v1/vps", token, map[string]any{"name": name, "host": "10.77.1.2", "ssh_private_key": key})
	}
	if resp := create(te.owner.Token, "web-1"); resp.Status != http.StatusAccepted {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	if resp := create(te.owner.Token, "web-1"); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "vps_name_taken" || resp.ErrorFields(t)["name"] == "" {
		t.Fatalf("same name: %d %s", resp.Status, resp.Body)
	}
	member := te.join(t, "member")
	if resp := create(member.Token, "web-2"); resp.Status != http.StatusForbidden {
		t.Fatalf("member creates a vps: %d %s", resp.Status, resp.Body)
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/vps", member.Token, nil); resp.Status != http.StatusOK {
		t.Fatalf("member lists: %d", resp.Status)
	}
	if resp := create(te.owner.Token, "web-2"); resp.Status != http.StatusAccepted {
		t.Fatalf("second: %d %s", resp.Status, resp.Body)
	}
	if resp := create(te.owner.Token, "web-3"); resp.Status != http.StatusForbidden || resp.ErrorCode(t) != "quota_exceeded" {
		t.Fatalf("over quota: %d %s", resp.Status, resp.Body)
	}
}

func TestVPSUpdateAndDelete(t *testing.T) {
	e := vpsEnv(t)
	owner := e.Register(t, "fleet")
	key := newPrivateKey(t)
	resp := e.Do(t, http.MethodPost, "/api/v1/vps", owner.Token, map[string]any{"name": "web-1", "host": "10.77.1.2", "ssh_private_key": key})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	id := resp.Map(t)["vps"].(map[string]any)["id"].(string)
	path := "/api/v1/vps/" + id
	ctx := context.Background()

	// Connection changes wait for the bootstrap.
	resp = e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{"port": 2222})
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "vps_busy" {
		t.Fatalf("port change while pending: %d %s", resp.Status, resp.Body)
	}
	// Settings apply at once, without an operation.
	resp = e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{
		"name": "web-one", "labels": map[string]string{"tier": "gold"}, "capacity": 3, "host": "10.77.1.2",
	})
	if resp.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	var out struct {
		VPS       map[string]any `json:"vps"`
		Operation map[string]any `json:"operation"`
	}
	resp.Decode(t, &out)
	if out.Operation != nil || out.VPS["name"] != "web-one" || out.VPS["capacity"] != float64(3) ||
		out.VPS["labels"].(map[string]any)["tier"] != "gold" {
		t.Fatalf("patched: %s", resp.Body)
	}
	resp = e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{"host": "10.77.2.2"})
	if resp.Status != http.StatusUnprocessableEntity || resp.ErrorFields(t)["host"] == "" {
		t.Fatalf("host change: %d %s", resp.Status, resp.Body)
	}

	// Once the server is active, a new key checks the connection again;
	// a never-bootstrapped server is bootstrapped again.
	if err := e.Server.Store.SetVPSStatus(ctx, owner.OrgID, id, store.VPSError); err != nil {
		t.Fatal(err)
	}
	newKey := newPrivateKey(t)
	resp = e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{"ssh_private_key": newKey})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("key change: %d %s", resp.Status, resp.Body)
	}
	resp.Decode(t, &out)
	if out.Operation["kind"] != "vps.bootstrap" || out.VPS["status"] != "pending" {
		t.Fatalf("key change: %s", resp.Body)
	}
	if strings.Contains(string(resp.Body), keyMarker(newKey)) || strings.Contains(e.Logs.String(), keyMarker(newKey)) {
		t.Fatal("the new key leaked")
	}
	row, _ := e.Server.Store.VPS(ctx, owner.OrgID, id)
	if plain, err := e.Server.Box.Open(row.SSHKeySealed, store.VPSKeyContext(id)); err != nil || string(plain) != newKey {
		t.Fatalf("the new key is not the stored one: %v", err)
	}

	// Capacity cannot drop below the sites on the server.
	if err := e.Server.Store.SetVPSStatus(ctx, owner.OrgID, id, store.VPSActive); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v, err := e.Server.Store.ReserveVPSSlot(ctx, owner.OrgID, id); v == nil || err != nil {
			t.Fatalf("reserve: %v %v", v, err)
		}
	}
	resp = e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{"capacity": 1})
	if resp.Status != http.StatusUnprocessableEntity || !strings.Contains(resp.ErrorFields(t)["capacity"], "at least 2") {
		t.Fatalf("capacity below allocation: %d %s", resp.Status, resp.Body)
	}

	// No health check before a host key is pinned.
	resp = e.Do(t, http.MethodPost, path+"/health", owner.Token, nil)
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "vps_not_connected" {
		t.Fatalf("health before pinning: %d %s", resp.Status, resp.Body)
	}

	// Deleting a server with sites needs force.
	resp = e.Do(t, http.MethodDelete, path, owner.Token, nil)
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "vps_has_sites" {
		t.Fatalf("delete with sites: %d %s", resp.Status, resp.Body)
	}
	if resp := e.Do(t, http.MethodDelete, path+"?force=maybe", owner.Token, nil, apitest.Invalid()); resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad force: %d", resp.Status)
	}
	if resp := e.Do(t, http.MethodDelete, path+"?force=true", owner.Token, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("forced delete: %d %s", resp.Status, resp.Body)
	}
	if resp := e.Do(t, http.MethodGet, path, owner.Token, nil); resp.Status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", resp.Status)
	}
	if resp := e.Do(t, http.MethodDelete, path, owner.Token, nil); resp.Status != http.StatusNotFound {
		t.Fatalf("second delete: %d", resp.Status)
	}
}
