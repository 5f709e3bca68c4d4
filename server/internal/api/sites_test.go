package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
)

// activeVPS stores a bootstrapped server of the tenant directly: site
// requests only need its row, and no worker runs in these tests.
func activeVPS(t *testing.T, e *apitest.Env, orgID, name string, capacity int) string {
	t.Helper()
	id := store.NewID()
	err := e.Server.Store.CreateVPS(context.Background(), &store.VPS{
		ID: id, OrganizationID: orgID, Name: name, Host: "192.0.2.10", Port: 22, SSHUser: "root",
		SSHKeySealed: e.Server.Box.Seal([]byte("not a key"), store.VPSKeyContext(id)),
		Capacity:     capacity, Status: store.VPSActive, PHPVersions: []string{"8.2", "8.3"},
	})
	if err != nil {
		t.Fatalf("create vps: %v", err)
	}
	return id
}

// createSiteFixture is the isolation test's site of the victim.
func createSiteFixture(t *testing.T, e *apitest.Env, v *apitest.Tenant) string {
	vpsID := activeVPS(t, e, v.OrgID, "victim-web", 5)
	resp := e.Do(t, http.MethodPost, "/api/v1/sites", v.Token, map[string]any{
		"domain": "victim-site.example.com", "type": "wordpress", "vps_id": vpsID,
	})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("create victim site: %d %s", resp.Status, resp.Body)
	}
	id := resp.Map(t)["site"].(map[string]any)["id"].(string)
	// Idle, so that every route reaches the point of telling tenants apart.
	markSite(t, e, v.OrgID, id, store.SiteActive)
	return id
}

// markSite sets a site's status as its operation's end would.
func markSite(t *testing.T, e *apitest.Env, orgID, id, status string) {
	t.Helper()
	if err := e.Server.Store.UpdateSite(context.Background(), orgID, id, nil, store.SiteUpdate{Status: &status}); err != nil {
		t.Fatalf("set site status: %v", err)
	}
}

type siteWithOperation struct {
	Site      map[string]any `json:"site"`
	Operation map[string]any `json:"operation"`
}

func createSite(t *testing.T, e *apitest.Env, token string, body map[string]any) siteWithOperation {
	t.Helper()
	resp := e.Do(t, http.MethodPost, "/api/v1/sites", token, body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("create site %v: %d %s", body, resp.Status, resp.Body)
	}
	var out siteWithOperation
	resp.Decode(t, &out)
	return out
}

func setLimit(t *testing.T, e *apitest.Env, orgID, column string, value int64) {
	t.Helper()
	q := "UPDATE organizations SET " + column + " = $1 WHERE id = $2"
	if e.Dialect == store.SQLite {
		q = "UPDATE organizations SET " + column + " = ? WHERE id = ?"
	}
	if _, err := e.Server.Store.SQLDB().Exec(q, value, orgID); err != nil {
		t.Fatalf("set %s: %v", column, err)
	}
}

var systemUser = regexp.MustCompile(`^site[0-9a-f]{16}$`)

func TestSiteCreateAndRead(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	vpsID := activeVPS(t, e, owner.OrgID, "web-1", 10)

	created := createSite(t, e, owner.Token, map[string]any{
		"domain": "Shop.Example.COM.", "aliases": []string{"WWW.shop.example.com", "b.shop.example.com", "www.shop.example.com."},
		"type": "wordpress", "https": false,
	})
	s, op := created.Site, created.Operation
	if s["domain"] != "shop.example.com" || s["status"] != "provisioning" || s["vps_id"] != vpsID || s["type"] != "wordpress" {
		t.Fatalf("created site: %v", s)
	}
	if fmt.Sprint(s["aliases"]) != "[b.shop.example.com www.shop.example.com]" {
		t.Fatalf("aliases %v, want normalised, deduplicated and sorted", s["aliases"])
	}
	user, _ := s["system_user"].(string)
	if !systemUser.MatchString(user) || s["database_name"] != user || s["database_user"] != user {
		t.Fatalf("system user %q, database %v/%v", user, s["database_name"], s["database_user"])
	}
	if s["document_root"] != "/srv/chom/sites/"+user+"/www" || s["php_version"] != "8.3" {
		t.Fatalf("document root %v, php %v (want the VPS's newest)", s["document_root"], s["php_version"])
	}
	if op["kind"] != "site.create" || op["target_id"] != s["id"] || op["status"] != "queued" {
		t.Fatalf("operation: %v", op)
	}
	cert := s["certificate"].(map[string]any)
	if cert["status"] != "none" || cert["issuer"] != nil {
		t.Fatalf("certificate: %v", cert)
	}

	got := e.Do(t, http.MethodGet, "/api/v1/sites/"+s["id"].(string), owner.Token, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("get: %d %s", got.Status, got.Body)
	}
	read := got.Map(t)
	// Everything a create accepts reads back as created: an import shows
	// no difference.
	for _, k := range []string{"domain", "aliases", "type", "vps_id", "php_version", "git_repository", "git_branch", "https"} {
		if fmt.Sprint(read[k]) != fmt.Sprint(s[k]) {
			t.Errorf("%s reads %v, created %v", k, read[k], s[k])
		}
	}

	laravel := createSite(t, e, owner.Token, map[string]any{
		"domain": "app.example.com", "type": "laravel", "vps_id": vpsID, "php_version": "8.2",
		"git_repository": "https://git.example.com/shop/app.git", "git_branch": "release/1.2",
		"environment": map[string]string{"APP_NAME": "Shop", "STRIPE_SECRET": "sk_live_do-not-leak-4242"},
	})
	if laravel.Site["git_branch"] != "release/1.2" || laravel.Site["php_version"] != "8.2" || laravel.Site["document_root"] != "/srv/chom/sites/"+laravel.Site["system_user"].(string)+"/www/public" {
		t.Fatalf("laravel site: %v", laravel.Site)
	}
	if _, ok := laravel.Site["environment"]; ok {
		t.Fatal("the environment was returned")
	}
	html := createSite(t, e, owner.Token, map[string]any{"domain": "static.example.com", "type": "html"})
	if html.Site["php_version"] != nil || html.Site["database_name"] != nil {
		t.Fatalf("html site: %v", html.Site)
	}

	list := func(query string) []any {
		resp := e.Do(t, http.MethodGet, "/api/v1/sites"+query, owner.Token, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, resp.Status, resp.Body)
		}
		return resp.Map(t)["data"].([]any)
	}
	for query, want := range map[string]int{
		"": 3, "?type=laravel": 1, "?domain=WWW.shop.example.com.": 1, "?domain=nope.example.com": 0,
		"?vps_id=" + vpsID: 3, "?status=provisioning": 3, "?status=active": 0, "?limit=2": 2,
	} {
		if got := list(query); len(got) != want {
			t.Errorf("list%s: %d sites, want %d", query, len(got), want)
		}
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/sites?status=gone", owner.Token, nil, apitest.Invalid()); resp.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad status filter: %d", resp.Status)
	}

	// The environment is stored sealed only, and never logged.
	var raw string
	if err := e.Server.Store.SQLDB().QueryRow("SELECT environment_sealed || database_password_sealed FROM sites WHERE id = '" + laravel.Site["id"].(string) + "'").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "sk_live") || !strings.HasPrefix(raw, "v1:") {
		t.Fatalf("the environment is not sealed: %q", raw)
	}
	if strings.Contains(e.Logs.String(), "sk_live") {
		t.Fatal("the environment reached the logs")
	}
}

func TestSiteValidation(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	vpsID := activeVPS(t, e, owner.OrgID, "web-1", 10)
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"missing domain", map[string]any{"type": "html"}, "domain"},
		{"shell in domain", map[string]any{"domain": "a.com; rm -rf /", "type": "html"}, "domain"},
		{"unicode domain", map[string]any{"domain": "bücher.example", "type": "html"}, "domain"},
		{"path traversal", map[string]any{"domain": "../../etc", "type": "html"}, "domain"},
		{"IP address", map[string]any{"domain": "10.0.0.1", "type": "html"}, "domain"},
		{"bad alias", map[string]any{"domain": "a.example.com", "aliases": []string{"ok.example.com", "$(id).example.com"}, "type": "html"}, "aliases[1]"},
		{"alias is the domain", map[string]any{"domain": "a.example.com", "aliases": []string{"A.example.com."}, "type": "html"}, "aliases[0]"},
		{"unknown type", map[string]any{"domain": "a.example.com", "type": "python"}, "type"},
		{"php for html", map[string]any{"domain": "a.example.com", "type": "html", "php_version": "8.2"}, "php_version"},
		{"php not installed", map[string]any{"domain": "a.example.com", "type": "wordpress", "php_version": "7.4"}, "php_version"},
		{"php version syntax", map[string]any{"domain": "a.example.com", "type": "wordpress", "php_version": "8.2; id"}, "php_version"},
		{"laravel without repository", map[string]any{"domain": "a.example.com", "type": "laravel"}, "git_repository"},
		{"git for wordpress", map[string]any{"domain": "a.example.com", "type": "wordpress", "git_repository": "https://x.example.com/r.git"}, "git_repository"},
		{"ext transport", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "ext::sh -c id"}, "git_repository"},
		{"option injection", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "--upload-pack=id"}, "git_repository"},
		{"credentials in url", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "https://user:token@git.example.com/r.git"}, "git_repository"},
		{"bad branch", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "https://git.example.com/r.git", "git_branch": "--orphan"}, "git_branch"},
		{"branch with dots", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "https://git.example.com/r.git", "git_branch": "a/../b"}, "git_branch"},
		{"managed variable", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "https://git.example.com/r.git", "environment": map[string]string{"DB_PASSWORD": "x"}}, "environment.DB_PASSWORD"},
		{"bad variable name", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "https://git.example.com/r.git", "environment": map[string]string{"A-B": "x"}}, "environment.A-B"},
		{"newline in value", map[string]any{"domain": "a.example.com", "type": "laravel", "git_repository": "https://git.example.com/r.git", "environment": map[string]string{"A": "x\nDB_PASSWORD=y"}}, "environment.A"},
		{"environment for html", map[string]any{"domain": "a.example.com", "type": "html", "environment": map[string]string{"A": "b"}}, "environment"},
		{"foreign vps", map[string]any{"domain": "a.example.com", "type": "html", "vps_id": store.NewID()}, "vps_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.Do(t, http.MethodPost, "/api/v1/sites", owner.Token, tt.body, apitest.Invalid())
			if resp.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", resp.Status, resp.Body)
			}
			if _, ok := resp.ErrorFields(t)[tt.field]; !ok {
				t.Fatalf("fields %v do not name %s", resp.ErrorFields(t), tt.field)
			}
		})
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/sites", owner.Token, nil); resp.Map(t)["pagination"].(map[string]any)["total"] != float64(0) {
		t.Fatalf("a refused create left a site: %s", resp.Body)
	}
	v, err := e.Server.Store.VPS(context.Background(), owner.OrgID, vpsID)
	if err != nil || v.SitesAllocated != 0 {
		t.Fatalf("refused creates took capacity: %d, %v", v.SitesAllocated, err)
	}
}

func TestSiteDomainsAreUniqueAcrossThePlatform(t *testing.T) {
	apitest.Dialects(t, testSiteDomainsAreUnique)
}

func testSiteDomainsAreUnique(t *testing.T, e *apitest.Env) {
	a, b := e.Register(t, "alpha"), e.Register(t, "beta")
	activeVPS(t, e, a.OrgID, "a-web", 10)
	bVPS := activeVPS(t, e, b.OrgID, "b-web", 10)
	createSite(t, e, a.Token, map[string]any{"domain": "taken.example.com", "aliases": []string{"www.taken.example.com"}, "type": "html"})

	for name, body := range map[string]map[string]any{
		"same domain":        {"domain": "TAKEN.example.com.", "type": "html"},
		"domain is an alias": {"domain": "www.taken.example.com", "type": "html"},
	} {
		resp := e.Do(t, http.MethodPost, "/api/v1/sites", b.Token, body)
		if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "domain_taken" || resp.ErrorFields(t)["domain"] == "" {
			t.Errorf("%s: %d %s", name, resp.Status, resp.Body)
		}
		if strings.Contains(string(resp.Body), a.OrgID) {
			t.Errorf("%s: the refusal names the other organization", name)
		}
	}
	resp := e.Do(t, http.MethodPost, "/api/v1/sites", b.Token, map[string]any{"domain": "free.example.com", "aliases": []string{"taken.example.com"}, "type": "html"})
	if resp.Status != http.StatusConflict || resp.ErrorFields(t)["aliases[0]"] == "" || resp.ErrorFields(t)["domain"] != "" {
		t.Errorf("alias taken: %d %s", resp.Status, resp.Body)
	}
	// The refused creates took no place on the VPS nor in the quota.
	ctx := context.Background()
	if v, err := e.Server.Store.VPS(ctx, b.OrgID, bVPS); err != nil || v.SitesAllocated != 0 {
		t.Fatalf("refused creates took capacity: %+v %v", v, err)
	}
	if org, err := e.Server.Store.Organization(ctx, b.OrgID); err != nil || org.SitesCount != 0 {
		t.Fatalf("refused creates counted against max_sites: %+v %v", org, err)
	}
	// A PATCH claiming another site's name is refused too.
	mine := createSite(t, e, b.Token, map[string]any{"domain": "beta.example.com", "type": "html"})
	markSite(t, e, b.OrgID, mine.Site["id"].(string), store.SiteActive)
	resp = e.Do(t, http.MethodPatch, "/api/v1/sites/"+mine.Site["id"].(string), b.Token, map[string]any{"aliases": []string{"www.taken.example.com"}})
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "domain_taken" {
		t.Errorf("patch alias taken: %d %s", resp.Status, resp.Body)
	}
}

func TestSiteDryRunChangesNothing(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	vpsID := activeVPS(t, e, owner.OrgID, "web-1", 1)
	resp := e.Do(t, http.MethodPost, "/api/v1/sites?dry_run=true", owner.Token, map[string]any{"domain": "dry.example.com", "type": "wordpress"})
	if resp.Status != http.StatusOK {
		t.Fatalf("dry run: %d %s", resp.Status, resp.Body)
	}
	var out siteWithOperation
	resp.Decode(t, &out)
	if out.Operation != nil || out.Site["domain"] != "dry.example.com" || out.Site["vps_id"] != vpsID || out.Site["php_version"] != "8.3" {
		t.Fatalf("dry run answered %s", resp.Body)
	}
	if got := e.Do(t, http.MethodGet, "/api/v1/sites/"+out.Site["id"].(string), owner.Token, nil); got.Status != http.StatusNotFound {
		t.Fatalf("the dry run stored its site: %d", got.Status)
	}
	ops := e.Do(t, http.MethodGet, "/api/v1/operations", owner.Token, nil).Map(t)
	if ops["pagination"].(map[string]any)["total"] != float64(0) {
		t.Fatalf("the dry run started an operation: %v", ops)
	}
	// The dry run took no slot: the one real create still fits.
	created := createSite(t, e, owner.Token, map[string]any{"domain": "dry.example.com", "type": "wordpress"})
	// Now the VPS is full and the domain taken: both dry runs say so.
	resp = e.Do(t, http.MethodPost, "/api/v1/sites?dry_run=true", owner.Token, map[string]any{"domain": "other.example.com", "type": "html"})
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "no_vps_capacity" {
		t.Fatalf("dry run on a full VPS: %d %s", resp.Status, resp.Body)
	}
	resp = e.Do(t, http.MethodPost, "/api/v1/sites?dry_run=true", owner.Token, map[string]any{"domain": "dry.example.com", "type": "html"})
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "domain_taken" {
		t.Fatalf("dry run of a taken domain: %d %s", resp.Status, resp.Body)
	}
	id := created.Site["id"].(string)
	markSite(t, e, owner.OrgID, id, store.SiteActive)
	resp = e.Do(t, http.MethodPatch, "/api/v1/sites/"+id+"?dry_run=true", owner.Token, map[string]any{"aliases": []string{"www.dry.example.com"}, "php_version": "8.2"})
	if resp.Status != http.StatusOK {
		t.Fatalf("patch dry run: %d %s", resp.Status, resp.Body)
	}
	resp.Decode(t, &out)
	if out.Operation != nil || fmt.Sprint(out.Site["aliases"]) != "[www.dry.example.com]" || out.Site["php_version"] != "8.2" {
		t.Fatalf("patch dry run answered %s", resp.Body)
	}
	after := e.Do(t, http.MethodGet, "/api/v1/sites/"+id, owner.Token, nil).Map(t)
	if fmt.Sprint(after["aliases"]) != "[]" || after["php_version"] != "8.3" || after["status"] != "active" {
		t.Fatalf("the patch dry run changed the site: %v", after)
	}
	resp = e.Do(t, http.MethodPost, "/api/v1/sites?dry_run=maybe", owner.Token, map[string]any{"domain": "x.example.com", "type": "html"}, apitest.Invalid())
	if resp.Status != http.StatusUnprocessableEntity || resp.ErrorFields(t)["dry_run"] == "" {
		t.Fatalf("bad dry_run: %d %s", resp.Status, resp.Body)
	}
}

// TestSiteCapacityAndQuotaUnderConcurrency fires concurrent creates: the
// VPS's capacity and the organization's max_sites hold exactly.
func TestSiteCapacityAndQuotaUnderConcurrency(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		owner := e.Register(t, "rush")
		vpsID := activeVPS(t, e, owner.OrgID, "web-1", 40)
		statuses := concurrentCreates(t, e, owner.Token, "cap", 50)
		if statuses[http.StatusAccepted] != 40 || statuses[http.StatusConflict] != 10 || len(statuses) != 2 {
			t.Fatalf("50 creates on capacity 40: %v", statuses)
		}
		v, err := e.Server.Store.VPS(context.Background(), owner.OrgID, vpsID)
		if err != nil || v.SitesAllocated != 40 {
			t.Fatalf("sites allocated %d, %v", v.SitesAllocated, err)
		}

		quota := e.Register(t, "quota")
		activeVPS(t, e, quota.OrgID, "big", 100)
		setLimit(t, e, quota.OrgID, "max_sites", 5)
		statuses = concurrentCreates(t, e, quota.Token, "quota", 12)
		if statuses[http.StatusAccepted] != 5 || statuses[http.StatusForbidden] != 7 || len(statuses) != 2 {
			t.Fatalf("12 creates with max_sites 5: %v", statuses)
		}
		resp := e.Do(t, http.MethodPost, "/api/v1/sites", quota.Token, map[string]any{"domain": "one-more.example.com", "type": "html"})
		if resp.Status != http.StatusForbidden || resp.ErrorCode(t) != "quota_exceeded" || resp.ErrorFields(t)["limit"] != "max_sites" {
			t.Fatalf("over quota: %d %s", resp.Status, resp.Body)
		}
	})
}

func concurrentCreates(t *testing.T, e *apitest.Env, token, prefix string, n int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp := e.Do(t, http.MethodPost, "/api/v1/sites", token, map[string]any{
				"domain": fmt.Sprintf("%s-%d.example.com", prefix, i), "type": "html",
			})
			mu.Lock()
			statuses[resp.Status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

func TestSiteMutationsWaitForTheRunningOperation(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	vpsID := activeVPS(t, e, owner.OrgID, "web-1", 10)
	created := createSite(t, e, owner.Token, map[string]any{"domain": "busy.example.com", "type": "wordpress"})
	id := created.Site["id"].(string)
	path := "/api/v1/sites/" + id

	for _, req := range []struct{ method, path string }{
		{http.MethodPatch, path}, {http.MethodDelete, path}, {http.MethodPost, path + "/suspend"}, {http.MethodPost, path + "/resume"},
	} {
		var body any
		if req.method == http.MethodPatch {
			body = map[string]any{"https": false}
		}
		resp := e.Do(t, req.method, req.path, owner.Token, body)
		if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "operation_in_progress" {
			t.Errorf("%s %s while provisioning: %d %s", req.method, req.path, resp.Status, resp.Body)
		}
	}

	markSite(t, e, owner.OrgID, id, store.SiteActive)
	for field, value := range map[string]any{"domain": "other.example.com", "type": "html", "vps_id": store.NewID()} {
		resp := e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{field: value})
		if resp.Status != http.StatusUnprocessableEntity || resp.ErrorFields(t)[field] == "" {
			t.Errorf("changing %s: %d %s", field, resp.Status, resp.Body)
		}
	}
	// The current values of the fixed fields are accepted, as Terraform sends them.
	resp := e.Do(t, http.MethodPatch, path, owner.Token, map[string]any{"domain": "Busy.example.com.", "type": "wordpress", "vps_id": vpsID, "php_version": "8.2"})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	var out siteWithOperation
	resp.Decode(t, &out)
	if out.Operation["kind"] != "site.update" || out.Site["status"] != "provisioning" || out.Site["php_version"] != "8.2" {
		t.Fatalf("patch answered %s", resp.Body)
	}

	markSite(t, e, owner.OrgID, id, store.SiteActive)
	resp = e.Do(t, http.MethodPost, path+"/suspend", owner.Token, nil)
	resp.Decode(t, &out)
	if resp.Status != http.StatusAccepted || out.Operation["kind"] != "site.suspend" {
		t.Fatalf("suspend: %d %s", resp.Status, resp.Body)
	}
	markSite(t, e, owner.OrgID, id, store.SiteSuspended)
	resp = e.Do(t, http.MethodDelete, path, owner.Token, nil)
	resp.Decode(t, &out)
	if resp.Status != http.StatusAccepted || out.Operation["kind"] != "site.delete" || out.Site["status"] != "deleting" {
		t.Fatalf("delete: %d %s", resp.Status, resp.Body)
	}

	audit := e.Do(t, http.MethodGet, "/api/v1/audit-logs?target_id="+id, owner.Token, nil)
	if audit.Status != http.StatusOK {
		t.Fatalf("audit log: %d %s", audit.Status, audit.Body)
	}
	for _, action := range []string{"site.create", "site.update", "site.suspend", "site.delete"} {
		if !strings.Contains(string(audit.Body), `"`+action+`"`) {
			t.Errorf("the audit log lacks %s: %s", action, audit.Body)
		}
	}
}

func TestSiteCredentials(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	activeVPS(t, e, owner.OrgID, "web-1", 10)
	wp := createSite(t, e, owner.Token, map[string]any{"domain": "wp.example.com", "type": "wordpress"})
	html := createSite(t, e, owner.Token, map[string]any{"domain": "static.example.com", "type": "html"})
	path := "/api/v1/sites/" + wp.Site["id"].(string) + "/credentials"

	resp := e.Do(t, http.MethodGet, path, owner.Token, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("credentials: %d %s", resp.Status, resp.Body)
	}
	cred := resp.Map(t)
	password, _ := cred["database_password"].(string)
	if cred["database_user"] != wp.Site["system_user"] || len(password) < 32 || cred["database_host"] != "localhost" {
		t.Fatalf("credentials: %v", cred)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	// The password is nowhere else: not in the site, the operations or the logs.
	for _, p := range []string{"/api/v1/sites/" + wp.Site["id"].(string), "/api/v1/sites", "/api/v1/operations", "/api/v1/dashboard"} {
		if strings.Contains(string(e.Do(t, http.MethodGet, p, owner.Token, nil).Body), password) {
			t.Errorf("GET %s shows the database password", p)
		}
	}
	if strings.Contains(e.Logs.String(), password) {
		t.Error("the database password reached the logs")
	}

	// Reading is audited, without the password.
	var n int
	if err := e.Server.Store.SQLDB().QueryRow("SELECT COUNT(*) FROM audit_logs WHERE action = 'site.credentials.read' AND target_id = '" + wp.Site["id"].(string) + "'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit entries for the read: %d, %v", n, err)
	}
	var changes string
	if err := e.Server.Store.SQLDB().QueryRow("SELECT changes FROM audit_logs WHERE action = 'site.credentials.read'").Scan(&changes); err != nil || strings.Contains(changes, password) {
		t.Fatalf("audit changes %q, %v", changes, err)
	}

	readOnly := e.Do(t, http.MethodPost, "/api/v1/tokens", owner.Token, map[string]any{"name": "ci", "abilities": []string{"read", "write"}}).Map(t)["token"].(string)
	if resp := e.Do(t, http.MethodGet, path, readOnly, nil); resp.Status != http.StatusForbidden {
		t.Errorf("a token without the admin ability read credentials: %d", resp.Status)
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/sites/"+html.Site["id"].(string)+"/credentials", owner.Token, nil); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "no_database" {
		t.Errorf("html credentials: %d %s", resp.Status, resp.Body)
	}
}

// selfSigned returns a certificate and key for names, valid now.
func selfSigned(t *testing.T, names ...string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "Test Issuer"},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func TestSiteCertificateUpload(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	activeVPS(t, e, owner.OrgID, "web-1", 10)
	created := createSite(t, e, owner.Token, map[string]any{"domain": "tls.example.com", "aliases": []string{"www.tls.example.com"}, "type": "html"})
	id := created.Site["id"].(string)
	path := "/api/v1/sites/" + id + "/certificate"
	markSite(t, e, owner.OrgID, id, store.SiteActive)

	cert := e.Do(t, http.MethodGet, path, owner.Token, nil).Map(t)
	if cert["status"] != "none" || cert["source"] != nil {
		t.Fatalf("certificate before upload: %v", cert)
	}
	if resp := e.Do(t, http.MethodPost, path+"/renew", owner.Token, nil); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "https_disabled" {
		t.Fatalf("renew without https: %d %s", resp.Status, resp.Body)
	}

	wrongCert, wrongKey := selfSigned(t, "tls.example.com")
	goodCert, goodKey := selfSigned(t, "tls.example.com", "www.tls.example.com")
	for name, body := range map[string]map[string]string{
		"alias not covered": {"cert_pem": wrongCert, "key_pem": wrongKey},
		"key of another":    {"cert_pem": goodCert, "key_pem": wrongKey},
		"not PEM":           {"cert_pem": "hello", "key_pem": "world"},
	} {
		resp := e.Do(t, http.MethodPut, path, owner.Token, body)
		if resp.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, resp.Status, resp.Body)
		}
		if strings.Contains(string(resp.Body), "PRIVATE KEY") {
			t.Errorf("%s: the refusal echoes the key", name)
		}
	}

	resp := e.Do(t, http.MethodPut, path, owner.Token, map[string]string{"cert_pem": goodCert, "key_pem": goodKey})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("upload: %d %s", resp.Status, resp.Body)
	}
	var out siteWithOperation
	resp.Decode(t, &out)
	if out.Operation["kind"] != "site.certificate" || out.Site["certificate"].(map[string]any)["issuer"] != "Test Issuer" {
		t.Fatalf("upload answered %s", resp.Body)
	}
	cert = e.Do(t, http.MethodGet, path, owner.Token, nil).Map(t)
	if cert["status"] != "active" || cert["source"] != "user" || fmt.Sprint(cert["domains"]) != "[tls.example.com www.tls.example.com]" {
		t.Fatalf("certificate after upload: %v", cert)
	}
	keyBody := strings.Split(goodKey, "\n")[1]
	var sealed string
	if err := e.Server.Store.SQLDB().QueryRow("SELECT certificate_sealed FROM sites WHERE id = '" + id + "'").Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, keyBody) || strings.Contains(e.Logs.String(), keyBody) {
		t.Fatal("the private key is stored or logged in clear")
	}
}

func TestUsageAndDashboard(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "shop")
	vpsID := activeVPS(t, e, owner.OrgID, "web-1", 10)
	sick := activeVPS(t, e, owner.OrgID, "web-2", 10)
	err := e.Server.Store.SaveVPSHealth(context.Background(), owner.OrgID, sick, store.VPSHealth{
		CheckedAt: time.Now(), Reachable: true, NginxRunning: false, PHPFPMRunning: true,
	}, store.VPSActive)
	if err != nil {
		t.Fatal(err)
	}
	createSite(t, e, owner.Token, map[string]any{"domain": "a.example.com", "type": "html", "vps_id": vpsID})
	b := createSite(t, e, owner.Token, map[string]any{"domain": "b.example.com", "type": "html", "vps_id": vpsID})
	markSite(t, e, owner.OrgID, b.Site["id"].(string), store.SiteActive)
	setLimit(t, e, owner.OrgID, "max_sites", 7)

	u := e.Do(t, http.MethodGet, "/api/v1/usage", owner.Token, nil)
	if u.Status != http.StatusOK {
		t.Fatalf("usage: %d %s", u.Status, u.Body)
	}
	usage := u.Map(t)
	if fmt.Sprint(usage["sites"]) != "map[limit:7 used:2]" || fmt.Sprint(usage["vps"]) != "map[limit:20 used:2]" {
		t.Fatalf("usage: %s", u.Body)
	}

	d := e.Do(t, http.MethodGet, "/api/v1/dashboard", owner.Token, nil)
	if d.Status != http.StatusOK {
		t.Fatalf("dashboard: %d %s", d.Status, d.Body)
	}
	var dash struct {
		Sites struct {
			Total    int            `json:"total"`
			ByStatus map[string]int `json:"by_status"`
		} `json:"sites"`
		VPS struct {
			Total int `json:"total"`
		} `json:"vps"`
		RecentOperations []map[string]any `json:"recent_operations"`
		Failing          []map[string]any `json:"failing_health_checks"`
	}
	d.Decode(t, &dash)
	if dash.Sites.Total != 2 || dash.Sites.ByStatus["active"] != 1 || dash.Sites.ByStatus["provisioning"] != 1 || dash.Sites.ByStatus["failed"] != 0 {
		t.Fatalf("site counts: %+v", dash.Sites)
	}
	if dash.VPS.Total != 2 || len(dash.RecentOperations) != 2 || dash.RecentOperations[0]["kind"] != "site.create" {
		t.Fatalf("dashboard: %s", d.Body)
	}
	if len(dash.Failing) != 1 || dash.Failing[0]["vps_id"] != sick || dash.Failing[0]["nginx_running"] != false {
		t.Fatalf("failing health checks: %v", dash.Failing)
	}
	// Another organization sees none of it.
	other := e.Register(t, "other")
	if body := string(e.Do(t, http.MethodGet, "/api/v1/dashboard", other.Token, nil).Body); strings.Contains(body, sick) || !strings.Contains(body, `"total":0`) {
		t.Fatalf("another organization's dashboard: %s", body)
	}
}
