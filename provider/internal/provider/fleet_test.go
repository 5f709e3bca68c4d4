package provider_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }

// TestAccFleet applies a whole hosting setup on both test hosts: the two
// servers, sites placed on each and one left to CHOM to place, a backup,
// a team member and data sources reading them back. The sites are served
// by nginx on their hosts, and everything is destroyed cleanly.
func TestAccFleet(t *testing.T) {
	hosts := acctest.Hosts(t, 2)
	s := acctest.New(t)
	h1, h2 := hosts[0], hosts[1]
	blog, docs, spare := acctest.RandomDomain("blog"), acctest.RandomDomain("docs"), acctest.RandomDomain("spare")
	email := acctest.RandomEmail("ops")

	config := s.Config(acctest.VPSResource("h1", h1, acctest.SensitiveKey, `labels = { role = "web" }`) +
		acctest.VPSResource("h2", h2, acctest.SensitiveKey, `labels = { role = "docs" }`) +
		acctest.Block("resource", "chom_site", "blog",
			fmt.Sprintf("domain = %q", blog), `type = "html"`, "vps_id = chom_vps.h1.id", fmt.Sprintf("aliases = [%q]", "www."+blog)) +
		acctest.Block("resource", "chom_site", "docs",
			fmt.Sprintf("domain = %q", docs), `type = "html"`, "vps_id = chom_vps.h2.id") +
		acctest.Block("resource", "chom_site", "spare",
			fmt.Sprintf("domain = %q", spare), `type = "html"`, "depends_on = [chom_vps.h1, chom_vps.h2]") +
		acctest.Block("resource", "chom_backup", "blog", "site_id = chom_site.blog.id", `description = "nightly"`) +
		acctest.Block("resource", "chom_team_member", "ops", fmt.Sprintf("email = %q", email), `role = "member"`) +
		acctest.Block("data", "chom_sites", "on_h2", "vps_id = chom_vps.h2.id", "depends_on = [chom_site.docs, chom_site.spare]") +
		acctest.Block("data", "chom_site", "blog", fmt.Sprintf("domain = %q", blog), "depends_on = [chom_site.blog]") +
		acctest.Block("data", "chom_vps", "h1", "name = chom_vps.h1.name"))

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			gone(s, "chom_vps", func(ctx context.Context, c *client.Client, id string) error { _, err := c.VPS(ctx, id); return err }),
			gone(s, "chom_site", func(ctx context.Context, c *client.Client, id string) error { _, err := c.Site(ctx, id); return err }),
			gone(s, "chom_backup", func(ctx context.Context, c *client.Client, id string) error { _, err := c.Backup(ctx, id); return err }),
			gone(s, "chom_team_member", func(ctx context.Context, c *client.Client, id string) error {
				_, err := c.TeamMember(ctx, id)
				return err
			}),
			notServed(h1, blog, "www."+blog, spare),
			notServed(h2, docs, spare),
		),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("chom_vps.h1", tfjsonpath.New("status"), knownvalue.StringExact(client.VPSActive)),
					statecheck.ExpectKnownValue("chom_vps.h2", tfjsonpath.New("status"), knownvalue.StringExact(client.VPSActive)),
					statecheck.ExpectKnownValue("chom_site.spare", tfjsonpath.New("status"), knownvalue.StringExact(client.SiteActive)),
					statecheck.ExpectKnownValue("chom_backup.blog", tfjsonpath.New("status"), knownvalue.StringExact(client.BackupCompleted)),
					statecheck.ExpectKnownValue("chom_backup.blog", tfjsonpath.New("type"), knownvalue.StringExact(client.BackupFull)),
					statecheck.ExpectKnownValue("chom_team_member.ops", tfjsonpath.New("status"), knownvalue.StringExact(client.MemberPending)),
					statecheck.CompareValuePairs("data.chom_site.blog", tfjsonpath.New("id"), "chom_site.blog", tfjsonpath.New("id"), compare.ValuesSame()),
					statecheck.CompareValuePairs("data.chom_vps.h1", tfjsonpath.New("id"), "chom_vps.h1", tfjsonpath.New("id"), compare.ValuesSame()),
					statecheck.ExpectKnownValue("data.chom_vps.h1", tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{"role": knownvalue.StringExact("web")})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					served(h1, blog, blog, "www."+blog),
					served(h2, docs, docs),
					notServed(h2, blog),
					notServed(h1, docs),
					// The spare site went to one server or the other, and is
					// served there only.
					func(st *terraform.State) error {
						vpsID := st.RootModule().Resources["chom_site.spare"].Primary.Attributes["vps_id"]
						on, off := h1, h2
						if vpsID == st.RootModule().Resources["chom_vps.h2"].Primary.ID {
							on, off = h2, h1
						} else if vpsID != st.RootModule().Resources["chom_vps.h1"].Primary.ID {
							return fmt.Errorf("the spare site is on %q, neither test host", vpsID)
						}
						return resource.ComposeAggregateTestCheckFunc(served(on, spare, spare), notServed(off, spare))(st)
					},
					resource.TestMatchResourceAttr("data.chom_sites.on_h2", "sites.#", regexp.MustCompile(`^[12]$`)),
					resource.TestCheckTypeSetElemNestedAttrs("data.chom_sites.on_h2", "sites.*", map[string]string{"domain": docs, "status": client.SiteActive}),
					allocated(s, 3),
				),
			},
		},
	})
}

func gone(s *acctest.Server, resourceType string, get func(context.Context, *client.Client, string) error) resource.TestCheckFunc {
	return s.CheckDestroy(resourceType, get)
}

func served(h acctest.Host, domain string, names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if err := h.ExpectHTTP(n, "/", 200, domain); err != nil {
				return err
			}
		}
		return nil
	}
}

func notServed(h acctest.Host, names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if err := h.ExpectHTTP(n, "/", 404, ""); err != nil {
				return err
			}
		}
		return nil
	}
}

// allocated checks through the API that the organization's servers hold
// want sites between them.
func allocated(s *acctest.Server, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		list, err := s.Client.ListVPS(context.Background(), client.VPSListOptions{})
		if err != nil {
			return err
		}
		got := 0
		for _, v := range list.Data {
			got += v.SitesAllocated
		}
		if got != want {
			return fmt.Errorf("%d sites allocated across the servers, want %d", got, want)
		}
		return nil
	}
}
