package client

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// checkRequests compares what the scripted server saw with want.

func checkRequests(t *testing.T, got, want []recorded) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("requests = %d, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		if g.method != want[i].method || g.path != want[i].path || g.query != want[i].query || g.body != want[i].body {
			t.Errorf("request %d = %s %s ?%s %s\nwant        %s %s ?%s %s", i, g.method, g.path, g.query, g.body,
				want[i].method, want[i].path, want[i].query, want[i].body)
		}
	}
}

const vpsJSON = `{"id":"vps_1","name":"web","host":"203.0.113.10","port":22,"ssh_user":"root","expected_host_key_fingerprint":null,
"labels":{},"capacity":50,"status":"pending","host_key_fingerprint":null,"host_public_key":null,"os":null,"cpu_count":null,
"memory_bytes":null,"disk_bytes":null,"php_versions":[],"last_health":null,"sites_allocated":0,
"created_at":"2030-01-01T00:00:00Z","updated_at":"2030-01-01T00:00:00Z"}`

const operationQueued = `{"id":"op_1","kind":"vps.bootstrap","target_type":"vps","target_id":"vps_1","status":"queued",
"progress":{"step":0,"step_count":0,"step_name":""},"log":"","error":null,"attempts":0,
"created_at":"2030-01-01T00:00:00Z","started_at":null,"finished_at":null,"updated_at":"2030-01-01T00:00:00Z"}`

func TestVPSRequests(t *testing.T) {
	srv, c := newScripted(t, Config{},
		reply{status: 503, body: `{}`},
		reply{status: 202, body: `{"vps":` + vpsJSON + `,"operation":` + operationQueued + `}`},
		reply{status: 200, body: `{"vps":` + vpsJSON + `,"operation":null}`},
		reply{status: 204},
		reply{status: 204},
	)
	ctx := context.Background()
	port, fp := 2222, "SHA256:x"
	v, op, err := c.CreateVPS(ctx, VPSCreateOptions{Name: "web", Host: "203.0.113.10", Port: &port, SSHPrivateKey: "KEY", ExpectedHostKeyFingerprint: &fp})
	if err != nil {
		t.Fatalf("CreateVPS: %v", err)
	}
	if v.ID != "vps_1" || op == nil || op.ID != "op_1" || op.StartedAt != nil || v.CPUCount != nil {
		t.Errorf("CreateVPS = %+v, %+v", v, op)
	}
	reqs := srv.requests()
	if key := reqs[0].header.Get("Idempotency-Key"); key == "" || reqs[1].header.Get("Idempotency-Key") != key {
		t.Errorf("the retried create changed Idempotency-Key: %q then %q", key, reqs[1].header.Get("Idempotency-Key"))
	}

	name, empty := "web-2", ""
	labels := map[string]string{}
	if _, op, err := c.UpdateVPS(ctx, "vps_1", VPSUpdateOptions{Name: &name, ExpectedHostKeyFingerprint: &empty, Labels: &labels}); err != nil || op != nil {
		t.Fatalf("UpdateVPS = %v, %v", op, err)
	}
	if err := c.DeleteVPS(ctx, "vps_1", VPSDeleteOptions{}); err != nil {
		t.Fatalf("DeleteVPS: %v", err)
	}
	if err := c.DeleteVPS(ctx, "vps/1", VPSDeleteOptions{Force: true}); err != nil {
		t.Fatalf("DeleteVPS with force: %v", err)
	}
	checkRequests(t, srv.requests(), []recorded{
		{method: "POST", path: "/api/v1/vps", body: `{"name":"web","host":"203.0.113.10","port":2222,"ssh_private_key":"KEY","expected_host_key_fingerprint":"SHA256:x"}`},
		{method: "POST", path: "/api/v1/vps", body: `{"name":"web","host":"203.0.113.10","port":2222,"ssh_private_key":"KEY","expected_host_key_fingerprint":"SHA256:x"}`},
		// An empty fingerprint clears it and an empty map removes every
		// label: both must reach the server.
		{method: "PATCH", path: "/api/v1/vps/vps_1", body: `{"name":"web-2","expected_host_key_fingerprint":"","labels":{}}`},
		{method: "DELETE", path: "/api/v1/vps/vps_1"},
		{method: "DELETE", path: "/api/v1/vps/vps%2F1", query: "force=true"},
	})

	if _, _, err := c.UpdateVPS(ctx, "vps_1", VPSUpdateOptions{}); err == nil {
		t.Error("UpdateVPS with nothing to change: want an error")
	}
	if _, _, err := c.CreateVPS(ctx, VPSCreateOptions{Name: "web", Host: "h"}); err == nil {
		t.Error("CreateVPS without a key: want an error")
	}
	if n := len(srv.requests()); n != 5 {
		t.Errorf("invalid options reached the server: %d requests", n)
	}
}

func TestUpdateVPSRetriesOnlyWithoutReconnect(t *testing.T) {
	name, key := "web", "KEY"
	tests := []struct {
		name         string
		opts         VPSUpdateOptions
		wantAttempts int
	}{
		{"settings only: repeated", VPSUpdateOptions{Name: &name}, 2},
		{"a new key starts an operation: not repeated", VPSUpdateOptions{SSHPrivateKey: &key}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newScripted(t, Config{}, reply{status: 503, body: `{}`}, reply{status: 200, body: `{"vps":` + vpsJSON + `,"operation":null}`})
			_, _, _ = c.UpdateVPS(context.Background(), "vps_1", tt.opts)
			if got := len(srv.requests()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestFindVPSByNameFilters(t *testing.T) {
	page := func(names ...string) reply {
		var items []string
		for _, n := range names {
			items = append(items, strings.Replace(vpsJSON, `"name":"web"`, `"name":"`+n+`"`, 1))
		}
		return reply{status: 200, body: `{"data":[` + strings.Join(items, ",") + `],"pagination":{"total":` + strconv.Itoa(len(names)) + `,"limit":1,"offset":0}}`}
	}
	srv, c := newScripted(t, Config{}, page("c d"))
	v, err := c.FindVPSByName(context.Background(), "c d")
	if err != nil || v.Name != "c d" {
		t.Fatalf("FindVPSByName = %+v, %v", v, err)
	}
	checkRequests(t, srv.requests(), []recorded{
		{method: "GET", path: "/api/v1/vps", query: "limit=1&name=c+d"},
	})

	_, c = newScripted(t, Config{}, page())
	if _, err := c.FindVPSByName(context.Background(), "d"); !IsNotFound(err) || !strings.Contains(err.Error(), `no VPS named "d"`) {
		t.Errorf("FindVPSByName of an unknown name: err = %v, want IsNotFound naming it", err)
	}
}
