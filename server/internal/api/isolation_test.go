package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
)

// fixture creates an object owned by the victim tenant and returns its id.
type fixture func(t *testing.T, e *apitest.Env, victim *apitest.Tenant) string

// fixtures maps every route parameter path prefix to a way of making the
// victim's object. A route with a parameter and no fixture fails the test,
// so a new resource cannot skip the isolation check.
var fixtures = map[string]fixture{
	"/api/v1/sites/:id":   createSiteFixture,
	"/api/v1/backups/:id": createBackupFixture,
	"/api/v1/operations/:id": func(t *testing.T, e *apitest.Env, v *apitest.Tenant) string {
		op := &store.Operation{
			ID: store.NewID(), OrganizationID: v.OrgID, Kind: "victim.work", TargetType: "widget", TargetID: "victim-widget",
			Status: store.OperationQueued, Params: "{}",
		}
		if err := e.Server.Store.CreateOperation(context.Background(), op); err != nil {
			t.Fatalf("create victim operation: %v", err)
		}
		return op.ID
	},
	"/api/v1/tokens/:id": func(t *testing.T, e *apitest.Env, v *apitest.Tenant) string {
		resp := e.Do(t, http.MethodPost, "/api/v1/tokens", v.Token, map[string]any{"name": "victim-ci", "abilities": []string{"read"}})
		if resp.Status != http.StatusCreated {
			t.Fatalf("create victim token: %d %s", resp.Status, resp.Body)
		}
		return resp.Map(t)["id"].(string)
	},
	"/api/v1/vps/:id": func(t *testing.T, e *apitest.Env, v *apitest.Tenant) string {
		id := store.NewID()
		err := e.Server.Store.CreateVPS(context.Background(), &store.VPS{
			ID: id, OrganizationID: v.OrgID, Name: "victim-vps", Host: "192.0.2.10", Port: 22, SSHUser: "root",
			SSHKeySealed: e.Server.Box.Seal([]byte("not a key"), store.VPSKeyContext(id)),
			Capacity:     10, Status: store.VPSActive,
		})
		if err != nil {
			t.Fatalf("create victim vps: %v", err)
		}
		return id
	},
	"/api/v1/team/members/:id": func(t *testing.T, e *apitest.Env, v *apitest.Tenant) string {
		resp := e.Do(t, http.MethodPost, "/api/v1/team/members", v.Token, map[string]any{"email": "victim-invitee@example.com", "role": "viewer"})
		if resp.Status != http.StatusCreated {
			t.Fatalf("create victim member: %d %s", resp.Status, resp.Body)
		}
		return resp.Map(t)["id"].(string)
	},
}

// isolationExempt are routes outside tenancy: public, or about the caller only.
var isolationExempt = regexp.MustCompile(`^/(healthz|readyz|metrics)$|^/api/v1/(openapi\.json|auth/|invitations/)`)

// TestTenantIsolation calls every registered route with tenant A's owner
// token against tenant B's objects: each answer is 404, and no body of any
// route carries any of B's identifiers.
func TestTenantIsolation(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		attacker := e.Register(t, "attacker")
		victim := e.Register(t, "victim")
		markers := []string{victim.OrgID, victim.UserID, victim.Email}

		engine := e.Server.Handler.(*gin.Engine)
		ids := map[string]string{}
		for _, r := range engine.Routes() {
			if isolationExempt.MatchString(r.Path) || !strings.Contains(r.Path, ":") {
				continue
			}
			prefix := paramPrefix(r.Path)
			if _, done := ids[prefix]; done {
				continue
			}
			fx, ok := fixtures[prefix]
			if !ok {
				t.Fatalf("route %s %s has no isolation fixture: add one to fixtures in isolation_test.go", r.Method, r.Path)
			}
			ids[prefix] = fx(t, e, victim)
			markers = append(markers, ids[prefix])
		}

		for _, r := range engine.Routes() {
			if isolationExempt.MatchString(r.Path) {
				continue
			}
			path := r.Path
			if prefix := paramPrefix(r.Path); prefix != "" {
				path = withID(prefix, ids[prefix]) + r.Path[len(prefix):]
			}
			if strings.Contains(path, ":") {
				t.Fatalf("route %s still has a parameter after substitution: %s", r.Path, path)
			}
			resp := e.Do(t, r.Method, path, attacker.Token, isolationBody(r.Method), apitest.Invalid())
			if strings.Contains(r.Path, ":") && resp.Status != http.StatusNotFound {
				t.Errorf("%s %s with another tenant's id: status %d, want 404; body %s", r.Method, r.Path, resp.Status, resp.Body)
			}
			for _, m := range markers {
				if strings.Contains(string(resp.Body), m) {
					t.Errorf("%s %s leaks the other tenant's %q: %s", r.Method, r.Path, m, resp.Body)
				}
			}
		}

		// The victim still sees their own objects: the 404s above are isolation, not breakage.
		for prefix, id := range ids {
			path := withID(prefix, id)
			var hasGet bool
			for _, r := range engine.Routes() {
				if r.Method == http.MethodGet && r.Path == prefix {
					hasGet = true
				}
			}
			if !hasGet {
				continue
			}
			if resp := e.Do(t, http.MethodGet, path, victim.Token, nil); resp.Status != http.StatusOK {
				t.Errorf("victim GET %s: %d", path, resp.Status)
			}
		}
	})
}

func isolationBody(method string) any {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return map[string]any{}
	}
	return nil
}

// paramPrefix returns the path up to and including its first parameter
// segment ("/api/v1/sites/:id" of "/api/v1/sites/:id/suspend"), or "".
func paramPrefix(path string) string {
	i := strings.Index(path, ":")
	if i < 0 {
		return ""
	}
	if j := strings.Index(path[i:], "/"); j >= 0 {
		return path[:i+j]
	}
	return path
}

// withID replaces the parameter segment of prefix with id.
func withID(prefix, id string) string { return prefix[:strings.Index(prefix, ":")] + id }
