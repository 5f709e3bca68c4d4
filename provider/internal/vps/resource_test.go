package vps_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
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

func checkDestroy(s *acctest.Server) resource.TestCheckFunc {
	return s.CheckDestroy("chom_vps", func(ctx context.Context, c *client.Client, id string) error {
		_, err := c.VPS(ctx, id)
		return err
	})
}

// apiVPS checks what the API holds for the server in the state at addr.
func apiVPS(s *acctest.Server, addr string, check func(v *client.VPS) error) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		v, err := s.Client.VPS(ctx, rs.Primary.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		return check(v)
	}
}

// connects counts the operations of kind that connected to the server in
// the state at addr and succeeded, and compares the count with want.
func connects(s *acctest.Server, addr, kind string, want int) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		list, err := s.Client.ListOperations(context.Background(), client.OperationListOptions{TargetType: "vps", TargetID: rs.Primary.ID, Limit: 200})
		if err != nil {
			return err
		}
		got := 0
		for _, op := range list.Data {
			if op.Kind == kind && op.Status == client.OperationSucceeded {
				got++
			}
		}
		if got != want {
			return fmt.Errorf("%d %s operations succeeded on %s, want %d", got, kind, rs.Primary.ID, want)
		}
		return nil
	}
}

var idPattern = regexp.MustCompile(`^[0-9a-f-]{36}$`)

// TestAccVPSResource registers a real test host with the key in the
// sensitive argument, which every CLI supports, and walks it through
// import, in-place changes, a new key, and replacement by another host.
func TestAccVPSResource(t *testing.T) {
	hosts := acctest.Hosts(t, 2)
	s := acctest.New(t)
	dir := acctest.KeepWorkingDirs(t)
	h1, h2 := hosts[0], hosts[1]
	const addr = "chom_vps.web"
	key := h1.PrivateKey(t)
	sameVPS := statecheck.CompareValue(compare.ValuesSame())
	replaced := statecheck.CompareValue(compare.ValuesDiffer())
	var firstID string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: s.Config(acctest.VPSResource("web", h1, acctest.SensitiveKey, `labels = { env = "test" }`, `capacity = 5`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringRegexp(idPattern)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.VPSActive)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("host_key_fingerprint"), knownvalue.StringExact(h1.HostKeyFingerprint)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("host_public_key"), knownvalue.StringRegexp(regexp.MustCompile(`^`+regexp.QuoteMeta(h1.HostPublicKey)))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("os"), knownvalue.StringRegexp(regexp.MustCompile(`(?i)debian|ubuntu`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("cpu_count"), int64AtLeast(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("memory_bytes"), int64AtLeast(1<<20)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("disk_bytes"), int64AtLeast(1<<20)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("php_versions"), knownvalue.ListPartial(map[int]knownvalue.Check{0: knownvalue.StringRegexp(regexp.MustCompile(`^\d+\.\d+$`))})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("sites_allocated"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("port"), knownvalue.Int64Exact(int64(h1.SSHPort))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("force_delete"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ssh_private_key_wo"), knownvalue.Null()),
					sameVPS.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					apiVPS(s, addr, func(v *client.VPS) error {
						if v.Name != "web" || v.Capacity != 5 || v.Labels["env"] != "test" || v.Status != client.VPSActive {
							return fmt.Errorf("API VPS = %s capacity %d labels %v status %s", v.Name, v.Capacity, v.Labels, v.Status)
						}
						return nil
					}),
					// The sensitive argument is kept in the state: the reason
					// to prefer the write-only one.
					acctest.StateFiles(dir, true, acctest.KeyMaterial(key)...),
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error { firstID = id; return nil }),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// The API never returns the key.
				ImportStateVerifyIgnore: []string{"ssh_private_key"},
			},
			{
				Config: s.Config(acctest.VPSResource("web", h1, acctest.SensitiveKey, `name = "web-renamed"`, `labels = { env = "prod", team = "ops" }`, `capacity = 10`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						// Nothing that makes CHOM connect again changes: what it
						// learnt about the server stays known.
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("host_key_fingerprint"), knownvalue.StringExact(h1.HostKeyFingerprint)),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("os"), knownvalue.NotNull()),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("sites_allocated")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("web-renamed")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{
						"env": knownvalue.StringExact("prod"), "team": knownvalue.StringExact("ops"),
					})),
					sameVPS.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					apiVPS(s, addr, func(v *client.VPS) error {
						if v.Name != "web-renamed" || v.Capacity != 10 || len(v.Labels) != 2 || v.Labels["team"] != "ops" {
							return fmt.Errorf("API VPS = %s capacity %d labels %v", v.Name, v.Capacity, v.Labels)
						}
						return nil
					}),
					connects(s, addr, "vps.connect", 0),
				),
			},
			{
				// Another spelling of the key is a new value of the
				// argument: the key is sent again and CHOM connects with it.
				// Removing the labels removes them in CHOM too.
				Config: s.Config(acctest.VPSResource("web", h1, acctest.SensitiveKey, `name = "web-renamed"`, `capacity = 10`,
					fmt.Sprintf(`ssh_private_key = "${file(%q)}\n"`, h1.PrivateKeyPath))),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("host_key_fingerprint")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.VPSActive)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("host_key_fingerprint"), knownvalue.StringExact(h1.HostKeyFingerprint)),
					sameVPS.AddStateValue(addr, tfjsonpath.New("id")),
					replaced.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					connects(s, addr, "vps.connect", 1),
					apiVPS(s, addr, func(v *client.VPS) error {
						if len(v.Labels) != 0 {
							return fmt.Errorf("API labels = %v, want none", v.Labels)
						}
						return nil
					}),
				),
			},
			{
				Config: s.Config(acctest.VPSResource("web", h2, acctest.SensitiveKey)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("host"), knownvalue.StringExact(h2.Address)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("host_key_fingerprint"), knownvalue.StringExact(h2.HostKeyFingerprint)),
					replaced.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: func(*terraform.State) error {
					if _, err := s.Client.VPS(context.Background(), firstID); !client.IsNotFound(err) {
						return fmt.Errorf("replaced VPS %s: err = %v, want it removed", firstID, err)
					}
					return nil
				},
			},
		},
	})
}

// TestAccVPSResource_writeOnly gives the key through the write-only
// argument: it reaches CHOM, which logs in with it, and never the state.
func TestAccVPSResource_writeOnly(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	dir := acctest.KeepWorkingDirs(t)
	h := hosts[0]
	const addr = "chom_vps.wo"
	material := acctest.KeyMaterial(h.PrivateKey(t))

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: s.Config(acctest.VPSResource("wo", h, acctest.WriteOnlyKey(1))),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.VPSActive)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ssh_private_key_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ssh_private_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ssh_private_key_wo_version"), knownvalue.Int64Exact(1)),
					acctest.StateLacks(material...),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					acctest.StateFiles(dir, false, material...),
					connects(s, addr, "vps.bootstrap", 1),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// The version only tells the provider when to send the
				// write-only key again; the API knows nothing of it.
				ImportStateVerifyIgnore: []string{"ssh_private_key_wo_version"},
			},
			{
				Config: s.Config(acctest.VPSResource("wo", h, acctest.WriteOnlyKey(2))),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("ssh_private_key_wo_version"), knownvalue.Int64Exact(2)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(client.VPSActive)),
					acctest.StateLacks(material...),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					acctest.StateFiles(dir, false, material...),
					// The key was sent again and CHOM connected with it.
					connects(s, addr, "vps.connect", 1),
				),
			},
		},
	})
}

func int64AtLeast(min int64) knownvalue.Check {
	return knownvalue.Int64Func(func(v int64) error {
		if v < min {
			return fmt.Errorf("%d is below %d", v, min)
		}
		return nil
	})
}
