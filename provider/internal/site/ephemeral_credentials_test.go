package site_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

// TestAccSiteDatabaseCredentials reads a WordPress site's credentials
// through the ephemeral resource: they are the site's, and they never
// reach the state.
func TestAccSiteDatabaseCredentials(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	v := s.RegisterVPS(t, "h1", hosts[0])
	wp := s.CreateSite(t, client.SiteCreateOptions{Domain: acctest.RandomDomain("wp"), Type: client.SiteWordPress, VPSID: &v.ID})
	html := s.CreateSite(t, client.SiteCreateOptions{Domain: acctest.RandomDomain("static"), Type: client.SiteHTML, VPSID: &v.ID})
	want, err := s.Client.SiteCredentials(context.Background(), wp.ID)
	if err != nil {
		t.Fatal(err)
	}
	ephemeralCredentials := func(siteID string) string {
		return fmt.Sprintf("ephemeral \"chom_site_database_credentials\" \"db\" {\n  site_id = %q\n}\n", siteID)
	}
	versions := []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)}

	t.Run("never in the state", func(t *testing.T) {
		dir := acctest.KeepWorkingDirs(t)
		resource.Test(t, resource.TestCase{
			PreCheck:                 func() { acctest.PreCheck(t) },
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			TerraformVersionChecks:   versions,
			Steps: []resource.TestStep{
				{
					// The credentials configure another provider (as they
					// would a database provider): an ephemeral context.
					Config: s.Config(ephemeralCredentials(wp.ID) + fmt.Sprintf(`
provider "chom" {
  alias    = "again"
  endpoint = %q
  token    = %q
  # Known only while Terraform runs, like any ephemeral value.
  request_timeout = ephemeral.chom_site_database_credentials.db.password != "" ? "31s" : "32s"
}

data "chom_site" "wp" {
  provider = chom.again
  id       = %q
}
`, s.URL, s.Token, wp.ID)),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("data.chom_site.wp", tfjsonpath.New("database_name"), knownvalue.StringExact(want.DatabaseName)),
						acctest.StateLacks(want.DatabasePassword),
					},
					Check: acctest.StateFiles(dir, false, want.DatabasePassword),
				},
			},
		})
		// The read is audited: the ephemeral resource really asked.
		entries, err := s.AuditEntries(context.Background(), "site", wp.ID)
		if err != nil {
			t.Fatal(err)
		}
		reads := 0
		for _, e := range entries {
			if e.Action == "site.credentials.read" {
				reads++
			}
		}
		if reads < 2 { // the test's own read and at least one by Terraform
			t.Errorf("%d site.credentials.read audit entries, want Terraform's too", reads)
		}
	})

	t.Run("values", func(t *testing.T) {
		factories := map[string]func() (tfprotov6.ProviderServer, error){"echo": echoprovider.NewProviderServer()}
		for k, f := range acctest.ProtoV6ProviderFactories {
			factories[k] = f
		}
		resource.Test(t, resource.TestCase{
			PreCheck:                 func() { acctest.PreCheck(t) },
			ProtoV6ProviderFactories: factories,
			TerraformVersionChecks:   versions,
			Steps: []resource.TestStep{
				{
					// The echo provider is the test's window on an ephemeral
					// value: it copies it into its own state.
					Config: s.Config(ephemeralCredentials(wp.ID) + `
provider "echo" {
  data = ephemeral.chom_site_database_credentials.db
}

resource "echo" "credentials" {}
`),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("username"), knownvalue.StringExact(want.DatabaseUser)),
						statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("password"), knownvalue.StringExact(want.DatabasePassword)),
						statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("host"), knownvalue.StringExact(want.DatabaseHost)),
						statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("database"), knownvalue.StringExact(want.DatabaseName)),
						statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("site_id"), knownvalue.StringExact(wp.ID)),
					},
				},
				{
					Config: s.Config(ephemeralCredentials(html.ID) + `
provider "echo" {
  data = ephemeral.chom_site_database_credentials.db
}

resource "echo" "credentials" {}
`),
					ExpectError: acctest.Words(`Site has no database`, `html site`),
				},
				// A configuration that opens, for the destroy at the end.
				{Config: s.Config(ephemeralCredentials(wp.ID))},
			},
		})
	})
}
