package site_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

// TestAccSiteResource_failedUpdate breaks nginx on the host while an alias
// is added: the apply fails and says why, the site is failed in the state,
// and once the host is fixed the next apply provisions it again although
// the configuration did not change.
func TestAccSiteResource_failedUpdate(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	h := hosts[0]
	v := s.RegisterVPS(t, "h1", h)
	const addr = "chom_site.fragile"
	domain := acctest.RandomDomain("fragile")
	config := func(args ...string) string {
		return s.Config(acctest.Block("resource", "chom_site", "fragile",
			append([]string{fmt.Sprintf("domain = %q", domain), `type = "html"`, fmt.Sprintf("vps_id = %q", v.ID)}, args...)...))
	}
	withAlias := config(fmt.Sprintf("aliases = [%q]", "www."+domain))
	var errorLog string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s, false),
		Steps: []resource.TestStep{
			{
				Config: config(),
				Check: resource.TestCheckResourceAttrWith(addr, "system_user", func(user string) error {
					errorLog = "/var/log/nginx/" + user + ".error.log"
					return nil
				}),
			},
			{
				// A directory where the site's error log goes: nginx -t
				// cannot open it, and CHOM rolls the change back.
				PreConfig: func() {
					if _, err := h.Exec("rm -f " + errorLog + " && mkdir " + errorLog); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _, _ = h.Exec("rmdir " + errorLog + " 2>/dev/null; true") })
				},
				Config:      withAlias,
				ExpectError: acctest.Words(`Site update did not succeed`, `site.update`, `failed`),
			},
			{
				PreConfig: func() {
					if _, err := h.Exec("rmdir " + errorLog); err != nil {
						t.Fatal(err)
					}
				},
				Config: withAlias,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("status")),
						// CHOM recorded the alias: only the failure calls for
						// the update.
						expectUnchanged(addr, "aliases"),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.SiteActive)),
				},
				Check: serves(h, domain, domain, "www."+domain),
			},
		},
	})
}

// expectUnchanged checks that the planned change of the resource at addr
// leaves the attribute as it was.
func expectUnchanged(addr, attribute string) plancheck.PlanCheck { return unchanged{addr, attribute} }

type unchanged struct{ addr, attribute string }

func (c unchanged) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.addr {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		if before == nil || after == nil || !reflect.DeepEqual(before[c.attribute], after[c.attribute]) {
			resp.Error = fmt.Errorf("%s.%s changes: %v -> %v", c.addr, c.attribute, before[c.attribute], after[c.attribute])
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.addr)
}
