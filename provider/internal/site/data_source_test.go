package site_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

// TestAccSiteDataSources looks sites made outside Terraform up one by one,
// by id and by domain, and as lists filtered by server, type and status.
func TestAccSiteDataSources(t *testing.T) {
	hosts := acctest.Hosts(t, 2)
	s := acctest.New(t)
	v1, v2 := s.RegisterVPS(t, "h1", hosts[0]), s.RegisterVPS(t, "h2", hosts[1])
	alias := "www." + acctest.RandomDomain("first")
	first := s.CreateSite(t, client.SiteCreateOptions{Domain: acctest.RandomDomain("first"), Type: client.SiteHTML, VPSID: &v1.ID, Aliases: []string{alias}})
	second := s.CreateSite(t, client.SiteCreateOptions{Domain: acctest.RandomDomain("second"), Type: client.SiteHTML, VPSID: &v2.ID})
	spelled := strings.ToUpper(second.Domain) + "."

	config := s.Config(fmt.Sprintf(`
data "chom_site" "by_id" {
  id = %q
}

data "chom_site" "by_domain" {
  domain = %q
}

data "chom_sites" "all" {}

data "chom_sites" "on_h2" {
  vps_id = %q
}

data "chom_sites" "wordpress" {
  type = "wordpress"
}

data "chom_sites" "active_html" {
  status = "active"
  type   = "html"
}
`, first.ID, spelled, v2.ID))

	siteChecks := func(site *client.Site) map[string]knownvalue.Check {
		return map[string]knownvalue.Check{
			"id":     knownvalue.StringExact(site.ID),
			"domain": knownvalue.StringExact(site.Domain),
			"vps_id": knownvalue.StringExact(site.VPSID),
			"status": knownvalue.StringExact(client.SiteActive),
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.chom_site.by_id", tfjsonpath.New("domain"), knownvalue.StringExact(first.Domain)),
					statecheck.ExpectKnownValue("data.chom_site.by_id", tfjsonpath.New("aliases"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(alias)})),
					statecheck.ExpectKnownValue("data.chom_site.by_id", tfjsonpath.New("vps_id"), knownvalue.StringExact(v1.ID)),
					statecheck.ExpectKnownValue("data.chom_site.by_id", tfjsonpath.New("type"), knownvalue.StringExact(client.SiteHTML)),
					statecheck.ExpectKnownValue("data.chom_site.by_id", tfjsonpath.New("system_user"), knownvalue.StringExact(first.SystemUser)),
					statecheck.ExpectKnownValue("data.chom_site.by_id", tfjsonpath.New("certificate_status"), knownvalue.StringExact("none")),
					statecheck.ExpectKnownValue("data.chom_site.by_domain", tfjsonpath.New("id"), knownvalue.StringExact(second.ID)),
					statecheck.ExpectKnownValue("data.chom_site.by_domain", tfjsonpath.New("domain"), knownvalue.StringExact(spelled)),
					statecheck.ExpectKnownValue("data.chom_site.by_domain", tfjsonpath.New("vps_id"), knownvalue.StringExact(v2.ID)),
					statecheck.ExpectKnownValue("data.chom_sites.all", tfjsonpath.New("sites"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(siteChecks(first)), knownvalue.ObjectPartial(siteChecks(second)),
					})),
					statecheck.ExpectKnownValue("data.chom_sites.on_h2", tfjsonpath.New("sites"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(siteChecks(second)),
					})),
					statecheck.ExpectKnownValue("data.chom_sites.wordpress", tfjsonpath.New("sites"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue("data.chom_sites.active_html", tfjsonpath.New("sites"), knownvalue.ListSizeExact(2)),
				},
			},
			{
				// An alias is not a domain: the lookup says whose it is.
				Config:      s.Config(fmt.Sprintf("data \"chom_site\" \"alias\" {\n  domain = %q\n}\n", alias)),
				ExpectError: acctest.Words(`no site with domain`, `it is an alias of site `+first.Domain),
			},
			{
				Config:      s.Config("data \"chom_site\" \"both\" {\n  id     = \"x\"\n  domain = \"x.example.test\"\n}\n"),
				ExpectError: acctest.Words(`Invalid Attribute Combination`),
			},
			// A configuration that reads, for the destroy at the end.
			{Config: config},
		},
	})
}
