package site_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }

// checkDestroy asks the API whether the sites in the state, and the
// servers if the configuration had any, are gone.
func checkDestroy(s *acctest.Server, withVPS bool) resource.TestCheckFunc {
	checks := []resource.TestCheckFunc{
		s.CheckDestroy("chom_site", func(ctx context.Context, c *client.Client, id string) error {
			_, err := c.Site(ctx, id)
			return err
		}),
	}
	if withVPS {
		checks = append(checks, s.CheckDestroy("chom_vps", func(ctx context.Context, c *client.Client, id string) error {
			_, err := c.VPS(ctx, id)
			return err
		}))
	}
	return resource.ComposeAggregateTestCheckFunc(checks...)
}

// apiSite checks what the API holds for the site in the state at addr.
func apiSite(s *acctest.Server, addr string, check func(site *client.Site) error) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		site, err := s.Client.Site(ctx, rs.Primary.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		return check(site)
	}
}

// serves checks that the host answers GET / for each name with the page
// of the site whose domain is domain.
func serves(h acctest.Host, domain string, names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if err := h.ExpectHTTP(n, "/", 200, domain); err != nil {
				return err
			}
		}
		return nil
	}
}

// servesNot checks that the host has no site for any of the names: its
// default server answers 404.
func servesNot(h acctest.Host, names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if err := h.ExpectHTTP(n, "/", 404, ""); err != nil {
				return err
			}
		}
		return nil
	}
}

// twoHosts returns the configuration of both test hosts as chom_vps
// resources h1 and h2, the key given in the sensitive argument.
func twoHosts(hosts []acctest.Host) string {
	return acctest.VPSResource("h1", hosts[0], acctest.SensitiveKey) + acctest.VPSResource("h2", hosts[1], acctest.SensitiveKey)
}

// TestAccSiteResource places an html site on one real host and walks it
// through import by id and by domain, an in-place change of aliases, a
// move to the other host (a replacement), and drift made through the API:
// a change of aliases and a deletion.
func TestAccSiteResource(t *testing.T) {
	hosts := acctest.Hosts(t, 2)
	s := acctest.New(t)
	h1, h2 := hosts[0], hosts[1]
	const addr = "chom_site.blog"
	domain := acctest.RandomDomain("blog")
	www, shop := "www."+domain, "shop."+domain
	config := func(vps string, aliases ...string) string {
		quoted := make([]string, len(aliases))
		for i, a := range aliases {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		return s.Config(twoHosts(hosts) + acctest.Block("resource", "chom_site", "blog",
			fmt.Sprintf("domain = %q", domain),
			`type = "html"`,
			"vps_id = chom_vps."+vps+".id",
			"aliases = ["+strings.Join(quoted, ", ")+"]",
		))
	}
	sameSite := statecheck.CompareValue(compare.ValuesSame())
	var siteID, movedID string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s, true),
		Steps: []resource.TestStep{
			{
				Config: config("h1", www),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.SiteActive)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("domain"), knownvalue.StringExact(domain)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("aliases"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(www)})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("php_version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("https"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("database_name"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("system_user"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("document_root"), knownvalue.StringRegexp(regexp.MustCompile(`^/`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("certificate_expires_at"), knownvalue.Null()),
					statecheck.CompareValuePairs(addr, tfjsonpath.New("vps_id"), "chom_vps.h1", tfjsonpath.New("id"), compare.ValuesSame()),
					sameSite.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h1, domain, domain, www),
					servesNot(h2, domain),
					sitesAllocated(s, "chom_vps.h1", 1),
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error { siteID = id; return nil }),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// A name that is not an id is looked up as a domain, in any
				// spelling.
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     strings.ToUpper(domain) + ".",
				ImportStateVerify: true,
			},
			{
				// Aliases change in place; their spelling is the
				// configuration's, compared as CHOM stores them.
				Config: config("h1", www, strings.ToUpper(shop)+"."),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("system_user"), knownvalue.NotNull()),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("status")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("aliases"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact(www), knownvalue.StringExact(strings.ToUpper(shop) + "."),
					})),
					sameSite.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h1, domain, domain, www, shop),
					apiSite(s, addr, func(site *client.Site) error {
						if !slices.Equal(site.Aliases, []string{shop, www}) {
							return fmt.Errorf("API aliases = %v, want %v", site.Aliases, []string{shop, www})
						}
						return nil
					}),
				),
			},
			{
				Config: config("h2", www, strings.ToUpper(shop)+"."),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(addr, tfjsonpath.New("vps_id"), "chom_vps.h2", tfjsonpath.New("id"), compare.ValuesSame()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h2, domain, domain, www, shop),
					servesNot(h1, domain, www, shop),
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error {
						if id == siteID {
							return fmt.Errorf("the moved site kept id %s", id)
						}
						if _, err := s.Client.Site(context.Background(), siteID); !client.IsNotFound(err) {
							return fmt.Errorf("the site on h1 (%s): err = %v, want it deleted", siteID, err)
						}
						movedID = id
						return nil
					}),
				),
			},
			{
				// Drift: aliases removed through the API show as a diff,
				// and applying puts them back.
				PreConfig: func() {
					ctx := context.Background()
					_, op, err := s.Client.UpdateSite(ctx, movedID, client.SiteUpdateOptions{Aliases: &[]string{}})
					if err == nil {
						_, err = s.Client.WaitForOperation(ctx, op.ID)
					}
					if err != nil {
						t.Fatalf("remove the aliases through the API: %v", err)
					}
				},
				Config: config("h2", www, strings.ToUpper(shop)+"."),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("aliases"), knownvalue.SetSizeExact(2)),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h2, domain, www, shop),
					apiSite(s, addr, func(site *client.Site) error {
						if len(site.Aliases) != 2 {
							return fmt.Errorf("API aliases = %v, want both back", site.Aliases)
						}
						return nil
					}),
				),
			},
			{
				// Drift: the site deleted through the API is created again.
				PreConfig: func() { s.DeleteSite(t, movedID) },
				Config:    config("h2", www, strings.ToUpper(shop)+"."),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h2, domain, domain, www),
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error {
						if id == movedID {
							return fmt.Errorf("id %s is the deleted site's", id)
						}
						return nil
					}),
				),
			},
		},
	})
}

// TestAccSiteResource_allocated leaves the server to CHOM and spells the
// domain unlike CHOM stores it: the site lands on the only server, and
// the configured spelling stays without a diff.
func TestAccSiteResource_allocated(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	v := s.RegisterVPS(t, "only", hosts[0])
	const addr = "chom_site.shop"
	domain := acctest.RandomDomain("shop")
	spelled := "Shop" + strings.TrimPrefix(strings.ToUpper(domain), "SHOP") + "."

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s, false),
		Steps: []resource.TestStep{
			{
				Config: s.Config(acctest.Block("resource", "chom_site", "shop", fmt.Sprintf("domain = %q", spelled), `type = "html"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("vps_id")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("domain"), knownvalue.StringExact(spelled)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("vps_id"), knownvalue.StringExact(v.ID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("aliases"), knownvalue.Null()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(hosts[0], domain, domain),
					apiSite(s, addr, func(site *client.Site) error {
						if site.Domain != domain {
							return fmt.Errorf("API domain = %q, want %q", site.Domain, domain)
						}
						return nil
					}),
				),
			},
			{
				// Only the server knows which PHP versions its VPS has: its
				// refusal points at the attribute.
				Config: s.Config(acctest.Block("resource", "chom_site", "shop", fmt.Sprintf("domain = %q", spelled), `type = "html"`) +
					acctest.Block("resource", "chom_site", "old_php", fmt.Sprintf("domain = %q", "php-"+domain), `type = "wordpress"`, `php_version = "5.6"`)),
				ExpectError: acctest.Words(`Could not create site`, `php_version`, `rejected this value`, `is not installed on VPS`),
			},
			{
				// Imported by domain, the site has CHOM's spelling.
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: spelled,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["domain"] != domain || states[0].Attributes["vps_id"] != v.ID {
						return fmt.Errorf("imported %v, want domain %q on %s", states, domain, v.ID)
					}
					return nil
				},
			},
			{
				// An unknown domain is no site.
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "absent-" + domain,
				ExpectError:   acctest.Words(`no site with domain "absent-`),
			},
		},
	})
}

// TestAccSiteResource_laravel deploys a Laravel application from git with
// variables in the sensitive environment, which every CLI supports.
func TestAccSiteResource_laravel(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	dir := acctest.KeepWorkingDirs(t)
	h := hosts[0]
	repo := laravelFixture(t, h)
	const addr = "chom_site.app"
	domain := acctest.RandomDomain("app")
	config := func(appName string) string {
		return s.Config(acctest.VPSResource("h1", h, acctest.SensitiveKey) + acctest.Block("resource", "chom_site", "app",
			fmt.Sprintf("domain = %q", domain), `type = "laravel"`, "vps_id = chom_vps.h1.id",
			fmt.Sprintf("git_repository = %q", repo), `git_branch = "main"`,
			fmt.Sprintf("environment = { APP_NAME = %q, APP_ENV = \"production\" }", appName),
		))
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s, true),
		Steps: []resource.TestStep{
			{
				Config: config("Fixture One"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.SiteActive)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("php_version"), knownvalue.StringRegexp(regexp.MustCompile(`^\d+\.\d+$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("database_name"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("git_branch"), knownvalue.StringExact("main")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h, "app name: Fixture One", domain),
					dotenvHas(h, addr, "APP_NAME='Fixture One'", "APP_ENV='production'"),
					// The sensitive argument is kept in the state.
					acctest.StateFiles(dir, true, "Fixture One"),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// The API never returns the variables.
				ImportStateVerifyIgnore: []string{"environment"},
			},
			{
				Config: config("Fixture Two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					serves(h, "app name: Fixture Two", domain),
					dotenvHas(h, addr, "APP_NAME='Fixture Two'"),
				),
			},
		},
	})
}

// TestAccSiteResource_laravelWriteOnly gives the variables through the
// write-only argument: they reach the application's .env and never the
// state, and only a new version sends them again.
func TestAccSiteResource_laravelWriteOnly(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	dir := acctest.KeepWorkingDirs(t)
	h := hosts[0]
	repo := laravelFixture(t, h)
	const addr = "chom_site.app"
	domain := acctest.RandomDomain("app-wo")
	secret := func(n int) string { return fmt.Sprintf("wo-secret-%d-%s", n, strings.ToLower(domain[7:17])) }
	config := func(version int, appName string) string {
		return s.Config(acctest.VPSResource("h1", h, acctest.WriteOnlyKey(1)) + acctest.Block("resource", "chom_site", "app",
			fmt.Sprintf("domain = %q", domain), `type = "laravel"`, "vps_id = chom_vps.h1.id",
			fmt.Sprintf("git_repository = %q", repo),
			fmt.Sprintf("environment_wo = { APP_NAME = %q }", appName),
			fmt.Sprintf("environment_wo_version = %d", version),
		))
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             checkDestroy(s, true),
		Steps: []resource.TestStep{
			{
				Config: config(1, secret(1)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("environment_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("environment"), knownvalue.Null()),
					acctest.StateLacks(secret(1)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					dotenvHas(h, addr, "APP_NAME='"+secret(1)+"'"),
					serves(h, "app name: "+secret(1), domain),
					acctest.StateFiles(dir, false, secret(1)),
				),
			},
			{
				// Without a new version a new value is invisible to
				// Terraform: nothing to do.
				Config:   config(1, secret(3)),
				PlanOnly: true,
			},
			{
				Config: config(2, secret(2)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{acctest.StateLacks(secret(1), secret(2))},
				Check: resource.ComposeAggregateTestCheckFunc(
					dotenvHas(h, addr, "APP_NAME='"+secret(2)+"'"),
					acctest.StateFiles(dir, false, secret(1), secret(2)),
				),
			},
		},
	})
}

// sitesAllocated checks through the API how many sites are on the server
// at addr; the state holds the count of its last refresh.
func sitesAllocated(s *acctest.Server, addr string, want int) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		v, err := s.Client.VPS(context.Background(), rs.Primary.ID)
		if err != nil {
			return err
		}
		if v.SitesAllocated != want {
			return fmt.Errorf("%s has %d sites allocated, want %d", addr, v.SitesAllocated, want)
		}
		return nil
	}
}

// dotenvHas checks the .env CHOM wrote on the host for the site at addr.
func dotenvHas(h acctest.Host, addr string, want ...string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		env, err := dotenv(h, rs.Primary.Attributes["system_user"])
		if err != nil {
			return err
		}
		for _, w := range want {
			if !strings.Contains(env, w) {
				return fmt.Errorf(".env of %s lacks %q", addr, w)
			}
		}
		return nil
	}
}

// TestAccSiteResource_invalid covers configurations refused at plan time,
// each on the attribute at fault, before anything is created.
func TestAccSiteResource_invalid(t *testing.T) {
	s := acctest.New(t)
	site := func(args ...string) string {
		return s.Config(acctest.Block("resource", "chom_site", "bad", append([]string{`domain = "ok.example.test"`, `type = "html"`}, args...)...))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: site(`domain = "localhost"`), ExpectError: acctest.Words(`Invalid host name`, `fully qualified`)},
			{Config: site(`domain = "*.example.test"`), ExpectError: acctest.Words(`wildcard`)},
			{Config: site(`domain = "10.0.0.1"`), ExpectError: acctest.Words(`not an IP address`)},
			{Config: site(`type = "php"`), ExpectError: acctest.Words(`type`, `value must be one of`)},
			{Config: site(`php_version = "8.2"`), ExpectError: acctest.Words(`php_version`, `html sites run no PHP`)},
			{Config: site(`type = "wordpress"`, `php_version = "eight"`), ExpectError: acctest.Words(`php_version`, `PHP version such as 8.2`)},
			{Config: site(`type = "laravel"`), ExpectError: acctest.Words(`Missing git repository`, `Laravel site is deployed from git`)},
			{Config: site(`git_repository = "https://example.test/app.git"`), ExpectError: acctest.Words(`Only Laravel sites are deployed from git`)},
			{
				Config:      site(`type = "laravel"`, `git_repository = "https://user:pw@example.test/app.git"`),
				ExpectError: acctest.Words(`must not contain credentials`),
			},
			{
				Config:      site(`type = "laravel"`, `git_repository = "https://example.test/app.git"`, `environment = { DB_PASSWORD = "x" }`),
				ExpectError: acctest.Words(`DB_PASSWORD`, `CHOM sets this variable`),
			},
			{Config: site(`aliases = ["WWW.ok.example.test", "www.ok.example.test."]`), ExpectError: acctest.Words(`Duplicate host name`)},
			{Config: site(`aliases = ["OK.example.test"]`), ExpectError: acctest.Words(`same name as the domain`)},
			{Config: site(`git_branch = "main"`), ExpectError: acctest.Words(`git_branch`, `Only Laravel`)},
			{
				Config:      site(`type = "laravel"`, `git_repository = "https://example.test/app.git"`, `environment_wo_version = 1`),
				ExpectError: acctest.Words(`environment_wo`),
			},
		},
	})
}
