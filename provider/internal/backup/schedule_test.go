package backup_test

import (
	"context"
	"fmt"
	"regexp"
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

// apiSchedule checks what the API holds as the schedule of the site in the
// state at chom_site.site.
func apiSchedule(s *acctest.Server, check func(sc *client.BackupSchedule) error) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources["chom_site.site"]
		if !ok {
			return fmt.Errorf("chom_site.site is not in the state")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sc, err := s.Client.BackupSchedule(ctx, rs.Primary.ID)
		if err != nil {
			return err
		}
		return check(sc)
	}
}

// TestAccBackupScheduleResource sets a site's schedule, changes it in
// place, imports it, and turns it off by removing the resource.
func TestAccBackupScheduleResource(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	h := hosts[0]
	const addr = "chom_backup_schedule.nightly"
	domain := acctest.RandomDomain("scheduled")
	site := acctest.VPSResource("h1", h, acctest.SensitiveKey) +
		acctest.Block("resource", "chom_site", "site", fmt.Sprintf("domain = %q", domain), `type = "html"`, "vps_id = chom_vps.h1.id")
	config := func(args ...string) string {
		return s.Config(site + acctest.Block("resource", "chom_backup_schedule", "nightly", append([]string{"site_id = chom_site.site.id"}, args...)...))
	}
	rfc3339 := knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: s.CheckDestroy("chom_site", func(ctx context.Context, c *client.Client, id string) error {
			_, err := c.Site(ctx, id)
			return err
		}),
		Steps: []resource.TestStep{
			{
				Config: config(`frequency = "daily"`, `keep_last = 3`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("timezone"), knownvalue.StringExact("UTC")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("type"), knownvalue.StringExact(client.BackupFull)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("keep_last"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("keep_days"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("cron"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("next_run_at"), rfc3339),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_run_at"), knownvalue.Null()),
				},
				Check: apiSchedule(s, func(sc *client.BackupSchedule) error {
					if !sc.Enabled || sc.Frequency != client.ScheduleDaily || sc.KeepLast != 3 || sc.NextRunAt == nil {
						return fmt.Errorf("API schedule = %+v", sc)
					}
					return nil
				}),
			},
			{
				Config: config(`frequency = "cron"`, `cron = "@every 6h"`, `timezone = "Europe/Paris"`, `type = "files"`, `keep_days = 30`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("chom_site.site", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					// keep_last is back to its default once left out.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("keep_last"), knownvalue.Int64Exact(7)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("keep_days"), knownvalue.Int64Exact(30)),
				},
				Check: apiSchedule(s, func(sc *client.BackupSchedule) error {
					if sc.Frequency != client.ScheduleCron || sc.Cron == nil || *sc.Cron != "@every 6h" || sc.Timezone != "Europe/Paris" ||
						sc.Type != client.BackupFiles || sc.KeepDays == nil || *sc.KeepDays != 30 || sc.KeepLast != 7 {
						return fmt.Errorf("API schedule = %+v", sc)
					}
					return nil
				}),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Turned off outside Terraform: the next plan puts it back.
				PreConfig: func() {
					ctx := context.Background()
					sites, err := s.Client.ListSites(ctx, client.SiteListOptions{Domain: domain})
					if err != nil || len(sites.Data) != 1 {
						t.Fatalf("find site: %+v %v", sites, err)
					}
					if _, err := s.Client.SetBackupSchedule(ctx, sites.Data[0].ID, client.BackupScheduleOptions{Frequency: client.ScheduleDaily}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(`frequency = "cron"`, `cron = "@every 6h"`, `timezone = "Europe/Paris"`, `type = "files"`, `keep_days = 30`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: apiSchedule(s, func(sc *client.BackupSchedule) error {
					if !sc.Enabled || sc.Frequency != client.ScheduleCron {
						return fmt.Errorf("API schedule after the drift was corrected = %+v", sc)
					}
					return nil
				}),
			},
			{
				// Without the resource the site keeps no schedule.
				Config: s.Config(site),
				Check: apiSchedule(s, func(sc *client.BackupSchedule) error {
					if sc.Enabled || sc.NextRunAt != nil {
						return fmt.Errorf("schedule still on after the resource went: %+v", sc)
					}
					return nil
				}),
			},
		},
	})
}

// TestAccBackupScheduleResource_invalid covers what the provider or the
// server refuses, each reported on the attribute at fault.
func TestAccBackupScheduleResource_invalid(t *testing.T) {
	s := acctest.New(t)
	bad := func(args ...string) string {
		return s.Config(acctest.Block("resource", "chom_backup_schedule", "bad", append([]string{`site_id = "x"`}, args...)...))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: bad(`frequency = "hourly"`), ExpectError: acctest.Words(`frequency`, `value must be one of`)},
			{Config: bad(`frequency = "cron"`), ExpectError: acctest.Words(`cron`, `needs a cron expression`)},
			{Config: bad(`frequency = "daily"`, `cron = "@daily"`), ExpectError: acctest.Words(`cron`, `used only with frequency`)},
			{Config: bad(`frequency = "daily"`, `keep_last = 0`), ExpectError: acctest.Words(`keep_last`, `between 1 and 1000`)},
			{
				// Only the server knows time zones and the site.
				Config:      s.Config(acctest.Block("resource", "chom_backup_schedule", "bad", `site_id = "00000000-0000-4000-8000-000000000000"`, `frequency = "daily"`)),
				ExpectError: acctest.Words(`Could not set the backup schedule`),
			},
		},
	})
}
