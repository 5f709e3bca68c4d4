package client

import (
	"context"
	"strings"
	"testing"
)

const siteJSON = `{"id":"site_1","domain":"example.com","aliases":["www.example.com"],"type":"html","vps_id":"vps_1","php_version":null,
"git_repository":null,"git_branch":null,"https":false,"status":"provisioning","document_root":"/srv/chom/sites/u/www","system_user":"u",
"database_name":null,"database_user":null,"certificate":{"status":"none","issuer":null,"not_after":null},
"created_at":"2030-01-01T00:00:00Z","updated_at":"2030-01-01T00:00:00Z"}`

func TestSiteRequests(t *testing.T) {
	withOp := `{"site":` + siteJSON + `,"operation":` + operationQueued + `}`
	srv, c := newScripted(t, Config{},
		reply{status: 202, body: withOp},
		reply{status: 202, body: withOp},
		reply{status: 202, body: withOp},
		reply{status: 200, body: `{"database_name":"u","database_user":"u","database_password":"pw","database_host":"localhost"}`},
		reply{status: 200, body: `{"data":[` + siteJSON + `],"pagination":{"total":1,"limit":200,"offset":0}}`},
	)
	ctx := context.Background()
	vps := "vps_1"
	if _, op, err := c.CreateSite(ctx, SiteCreateOptions{Domain: "Example.COM.", Type: SiteLaravel, VPSID: &vps, Environment: map[string]string{"A": "1"}}); err != nil || op == nil {
		t.Fatalf("CreateSite = %v, %v", op, err)
	}
	branch, env := "", map[string]string{}
	if _, _, err := c.UpdateSite(ctx, "site_1", SiteUpdateOptions{Aliases: &[]string{}, GitBranch: &branch, Environment: &env}); err != nil {
		t.Fatalf("UpdateSite: %v", err)
	}
	if op, err := c.DeleteSite(ctx, "site_1"); err != nil || op.ID != "op_1" {
		t.Fatalf("DeleteSite = %v, %v", op, err)
	}
	if cr, err := c.SiteCredentials(ctx, "site_1"); err != nil || cr.DatabasePassword != "pw" {
		t.Fatalf("SiteCredentials = %+v, %v", cr, err)
	}
	if s, err := c.FindSiteByDomain(ctx, " Example.COM. "); err != nil || s.ID != "site_1" {
		t.Fatalf("FindSiteByDomain = %+v, %v", s, err)
	}
	checkRequests(t, srv.requests(), []recorded{
		{method: "POST", path: "/api/v1/sites", body: `{"domain":"Example.COM.","type":"laravel","vps_id":"vps_1","environment":{"A":"1"}}`},
		// Clearing aliases, the branch and the environment sends empty values.
		{method: "PATCH", path: "/api/v1/sites/site_1", body: `{"aliases":[],"git_branch":"","environment":{}}`},
		{method: "DELETE", path: "/api/v1/sites/site_1"},
		{method: "GET", path: "/api/v1/sites/site_1/credentials"},
		{method: "GET", path: "/api/v1/sites", query: "domain=example.com&limit=200"},
	})
	if h := srv.requests()[0].header.Get("Idempotency-Key"); h == "" {
		t.Error("CreateSite carries no Idempotency-Key")
	}
}

func TestFindSiteByDomainNamesTheAliasOwner(t *testing.T) {
	_, c := newScripted(t, Config{}, reply{status: 200, body: `{"data":[` + siteJSON + `],"pagination":{"total":1,"limit":200,"offset":0}}`})
	_, err := c.FindSiteByDomain(context.Background(), "WWW.example.com")
	if !IsNotFound(err) || !strings.Contains(err.Error(), "alias of site example.com (id site_1)") {
		t.Errorf("err = %v, want IsNotFound naming the site whose alias it is", err)
	}
}
