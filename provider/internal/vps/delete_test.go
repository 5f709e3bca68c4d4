package vps_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

// TestAccVPSResource_hasSites destroys a server that hosts a site made
// outside Terraform: refused with the site named, then, with
// force_delete, the server leaves CHOM while the site keeps being served.
func TestAccVPSResource_hasSites(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	h := hosts[0]
	const addr = "chom_vps.busy"
	domain := acctest.RandomDomain("stays")
	var vpsID string
	var site *client.Site

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: s.Config(acctest.VPSResource("busy", h, acctest.SensitiveKey)),
				Check:  resource.TestCheckResourceAttrWith(addr, "id", func(id string) error { vpsID = id; return nil }),
			},
			{
				PreConfig: func() {
					site = s.CreateSite(t, client.SiteCreateOptions{Domain: domain, Type: client.SiteHTML, VPSID: &vpsID})
					t.Cleanup(func() { removeLeftovers(t, h, site.SystemUser) })
				},
				Config:      s.Config(""),
				ExpectError: acctest.Words(`VPS still hosts sites`, domain, `force_delete = true`),
			},
			{
				Config: s.Config(acctest.VPSResource("busy", h, acctest.SensitiveKey, "force_delete = true")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.TestCheckResourceAttr(addr, "force_delete", "true"),
			},
			{
				Config: s.Config(""),
				Check: func(*terraform.State) error {
					if _, err := s.Client.VPS(context.Background(), vpsID); !client.IsNotFound(err) {
						return fmt.Errorf("VPS %s: err = %v, want it removed", vpsID, err)
					}
					// CHOM left the server and the site on it alone.
					if _, err := s.Client.Site(context.Background(), site.ID); err != nil {
						return fmt.Errorf("site %s after the forced delete: %w", site.ID, err)
					}
					return h.ExpectHTTP(domain, "/", 200, domain)
				},
			},
		},
	})
}

// removeLeftovers removes from the host what an html site left there when
// its server was removed from CHOM with force: CHOM no longer reaches it.
func removeLeftovers(t *testing.T, h acctest.Host, user string) {
	t.Helper()
	_, err := h.Exec(fmt.Sprintf(`rm -f /etc/nginx/chom.d/%[1]s.conf /var/log/nginx/%[1]s.*
nginx -s reload
rm -rf /srv/chom/sites/%[1]s /srv/chom/ssl/%[1]s
userdel %[1]s 2>/dev/null; groupdel %[1]s 2>/dev/null; true`, user))
	if err != nil {
		t.Errorf("remove the site's leftovers: %v", err)
	}
}
