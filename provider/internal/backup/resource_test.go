package backup_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }

func checkDestroy(s *acctest.Server) resource.TestCheckFunc {
	return resource.ComposeAggregateTestCheckFunc(
		s.CheckDestroy("chom_backup", func(ctx context.Context, c *client.Client, id string) error {
			_, err := c.Backup(ctx, id)
			return err
		}),
		s.CheckDestroy("chom_site", func(ctx context.Context, c *client.Client, id string) error {
			_, err := c.Site(ctx, id)
			return err
		}),
	)
}

// apiBackup checks what the API holds for the backup in the state at addr.
func apiBackup(s *acctest.Server, addr string, check func(b *client.Backup) error) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := s.Client.Backup(ctx, rs.Primary.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		return check(b)
	}
}

// TestAccBackupResource backs up an html site on a real host, imports the
// backup, restores it over a defaced page by changing its restore
// trigger, and replaces it when its description changes.
func TestAccBackupResource(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	h := hosts[0]
	const addr = "chom_backup.before_launch"
	domain := acctest.RandomDomain("backed-up")
	config := func(args ...string) string {
		return s.Config(acctest.VPSResource("h1", h, acctest.SensitiveKey) +
			acctest.Block("resource", "chom_site", "site", fmt.Sprintf("domain = %q", domain), `type = "html"`, "vps_id = chom_vps.h1.id") +
			acctest.Block("resource", "chom_backup", "before_launch",
				append([]string{"site_id = chom_site.site.id", `type = "files"`, `description = "before launch"`}, args...)...))
	}
	var documentRoot, firstID string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: config(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.BackupCompleted)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("type"), knownvalue.StringExact(client.BackupFiles)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("size_bytes"), knownvalue.Int64Func(func(v int64) error {
						if v <= 0 {
							return fmt.Errorf("size %d", v)
						}
						return nil
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("storage_location"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("completed_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("restore_trigger"), knownvalue.Null()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					apiBackup(s, addr, func(b *client.Backup) error {
						if b.Status != client.BackupCompleted || b.Description != "before launch" || b.Type != client.BackupFiles {
							return fmt.Errorf("API backup = %s %s %q", b.Status, b.Type, b.Description)
						}
						return nil
					}),
					resource.TestCheckResourceAttrWith("chom_site.site", "document_root", func(v string) error { documentRoot = v; return nil }),
					resource.TestCheckResourceAttrWith(addr, "id", func(v string) error { firstID = v; return nil }),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// The page is defaced on the host; a new trigger restores
				// the backup over it.
				PreConfig: func() {
					if _, err := h.Exec("echo defaced > " + documentRoot + "/index.html"); err != nil {
						t.Fatal(err)
					}
					if err := h.ExpectHTTP(domain, "/", 200, "defaced"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(`restore_trigger = "incident 42"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("chom_site.site", plancheck.ResourceActionNoop),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("sha256"), knownvalue.NotNull()),
					},
				},
				Check: func(*terraform.State) error {
					if err := h.ExpectHTTP(domain, "/", 200, domain); err != nil {
						return err
					}
					_, body, err := h.HTTPGet(domain, "/")
					if err != nil || strings.Contains(body, "defaced") {
						return fmt.Errorf("after the restore: %q, %v", body, err)
					}
					return nil
				},
			},
			{
				Config: config(`restore_trigger = "incident 42"`, `description = "before the relaunch"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("description"), knownvalue.StringExact("before the relaunch")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.BackupCompleted)),
				},
				Check: func(*terraform.State) error {
					if _, err := s.Client.Backup(context.Background(), firstID); !client.IsNotFound(err) {
						return fmt.Errorf("replaced backup %s: err = %v, want it deleted", firstID, err)
					}
					return nil
				},
			},
		},
	})
}

// TestAccBackupResource_invalid covers what the provider or the server
// refuses, each reported on the attribute at fault.
func TestAccBackupResource_invalid(t *testing.T) {
	s := acctest.New(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      s.Config(acctest.Block("resource", "chom_backup", "bad", `site_id = "x"`, `type = "everything"`)),
				ExpectError: acctest.Words(`type`, `value must be one of`),
			},
			{
				Config:      s.Config(acctest.Block("resource", "chom_backup", "bad", `site_id = "x"`, fmt.Sprintf("description = %q", strings.Repeat("x", 256)))),
				ExpectError: acctest.Words(`description`, `at most 255`),
			},
			{
				// Only the server knows the site does not exist.
				Config:      s.Config(acctest.Block("resource", "chom_backup", "bad", `site_id = "00000000-0000-4000-8000-000000000000"`)),
				ExpectError: acctest.Words(`Could not back up site`, `site_id`, `rejected this value`, `not a site of this organization`),
			},
		},
	})
}
