package teammember_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"regexp"
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

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }

func memberConfig(s *acctest.Server, name, email, role string) string {
	return s.Config(fmt.Sprintf(`
resource "chom_team_member" %q {
  email = %q
  role  = %q
}
`, name, email, role))
}

func checkDestroy(s *acctest.Server) resource.TestCheckFunc {
	return s.CheckDestroy("chom_team_member", func(ctx context.Context, c *client.Client, id string) error {
		_, err := c.TeamMember(ctx, id)
		return err
	})
}

// apiMember checks what the API holds for the member in the state at addr.
func apiMember(s *acctest.Server, addr string, check func(m *client.Member) error) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s is not in the state", addr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m, err := s.Client.TeamMember(ctx, rs.Primary.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		return check(m)
	}
}

func apiRole(s *acctest.Server, addr, want string) resource.TestCheckFunc {
	return apiMember(s, addr, func(m *client.Member) error {
		if m.Role != want {
			return fmt.Errorf("API role of %s = %q, want %q", m.ID, m.Role, want)
		}
		return nil
	})
}

func TestAccTeamMemberResource(t *testing.T) {
	t.Run("pending invitation", testAccPendingInvitation)
	t.Run("existing user", testAccExistingUser)
}

// testAccPendingInvitation invites an unknown address and walks it through
// import, an in-place role change, a replacing e-mail change, a change of
// case alone, and re-creation after it was removed outside Terraform.
func testAccPendingInvitation(t *testing.T) {
	s := acctest.New(t)
	const addr = "chom_team_member.invitee"
	first := acctest.RandomEmail("invitee")
	second := acctest.RandomEmail("replacement")
	sameMember := statecheck.CompareValue(compare.ValuesSame())
	replaced := statecheck.CompareValue(compare.ValuesDiffer())
	var replacedID, droppedID string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: memberConfig(s, "invitee", first, "member"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("email"), knownvalue.StringExact(first)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("role"), knownvalue.StringExact("member")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("pending")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("user_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("invited_by"), knownvalue.StringExact(s.Owner.ID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("invitation_expires_at"), knownvalue.StringFunc(isFutureTime)),
					sameMember.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: apiMember(s, addr, func(m *client.Member) error {
					if m.Email != first || m.Role != "member" || m.Status != client.MemberPending {
						return fmt.Errorf("API member = %s %s %s, want %s member pending", m.Email, m.Role, m.Status, first)
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
				Config: memberConfig(s, "invitee", first, "viewer"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						// A pending invitation may be accepted between plan and apply.
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("status")),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.NotNull()),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("role"), knownvalue.StringExact("viewer")),
					sameMember.AddStateValue(addr, tfjsonpath.New("id")),
					replaced.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					apiRole(s, addr, "viewer"),
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error { replacedID = id; return nil }),
				),
			},
			{
				Config: memberConfig(s, "invitee", second, "viewer"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("email"), knownvalue.StringExact(second)),
					replaced.AddStateValue(addr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					apiRole(s, addr, "viewer"),
					func(*terraform.State) error {
						_, err := s.Client.TeamMember(context.Background(), replacedID)
						if !client.IsNotFound(err) {
							return fmt.Errorf("replaced member %s: err = %v, want it removed", replacedID, err)
						}
						return nil
					},
				),
			},
			{
				// The server lower-cases addresses: a change of case alone is
				// the same member, updated in place, and the configured
				// spelling stays in the state without a diff on the next plan.
				Config: memberConfig(s, "invitee", strings.ToUpper(second), "viewer"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("email"), knownvalue.StringExact(strings.ToUpper(second))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					apiMember(s, addr, func(m *client.Member) error {
						if m.Email != second {
							return fmt.Errorf("API e-mail = %q, want %q", m.Email, second)
						}
						return nil
					}),
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error { droppedID = id; return nil }),
				),
			},
			{
				// Drift: the member is removed outside Terraform, so the
				// refresh drops it and the plan creates it again.
				PreConfig: func() {
					if err := s.Client.DeleteTeamMember(context.Background(), droppedID); err != nil {
						t.Fatalf("remove member through the API: %v", err)
					}
				},
				Config: memberConfig(s, "invitee", strings.ToUpper(second), "viewer"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(addr, "id", func(id string) error {
						if id == droppedID {
							return fmt.Errorf("id %s is the removed member's", id)
						}
						return nil
					}),
					apiRole(s, addr, "viewer"),
				),
			},
		},
	})
}

// testAccExistingUser invites the address of a person who already has an
// account: the member is active at once, and stays known while its role
// changes.
func testAccExistingUser(t *testing.T) {
	s := acctest.New(t)
	const addr = "chom_team_member.colleague"
	colleague := s.Register(t, "Colleague")
	// The configuration spells the address differently from the server.
	email := strings.ToUpper(colleague.User.Email[:1]) + colleague.User.Email[1:]

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: memberConfig(s, "colleague", email, "admin"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("email"), knownvalue.StringExact(email)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("user_id"), knownvalue.StringExact(colleague.User.ID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact(colleague.User.Name)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("invitation_expires_at"), knownvalue.Null()),
				},
				Check: apiRole(s, addr, "admin"),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// The API answers the address lower-cased; the configuration
				// keeps its own spelling.
				ImportStateVerifyIgnore: []string{"email"},
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["email"] != colleague.User.Email {
						return fmt.Errorf("imported e-mail = %v, want %q", states, colleague.User.Email)
					}
					return nil
				},
			},
			{
				Config: memberConfig(s, "colleague", email, "member"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("active")),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("user_id"), knownvalue.StringExact(colleague.User.ID)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("role"), knownvalue.StringExact("member")),
				},
				Check: apiRole(s, addr, "member"),
			},
		},
	})
}

// TestAccTeamMemberResource_invalid covers configurations the provider or
// the server refuses, each reported on the attribute at fault.
func TestAccTeamMemberResource_invalid(t *testing.T) {
	s := acctest.New(t)
	taken := acctest.RandomEmail("taken")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Passes the plan-time check; only the server knows that an
				// address needs a domain with a dot.
				Config:      memberConfig(s, "bad", "nobody@localhost", "member"),
				ExpectError: regexp.MustCompile(`(?s)Could not invite team member.*email\s+=\s+"nobody@localhost".*rejected\s+this\s+value:.*e-mail`),
			},
			{
				Config:      memberConfig(s, "bad", acctest.RandomEmail("x"), "superuser"),
				ExpectError: regexp.MustCompile(`(?s)role.*value must be one of`),
			},
			{
				// Someone invited the address outside Terraform: the error
				// names the existing member so that it can be imported.
				PreConfig: func() {
					_, err := s.Client.CreateTeamMember(context.Background(), client.MemberCreateOptions{Email: taken, Role: "viewer"})
					if err != nil {
						t.Fatalf("invite through the API: %v", err)
					}
				},
				Config: memberConfig(s, "taken", strings.ToUpper(taken), "admin"),
				ExpectError: regexp.MustCompile(`(?s)Team member already exists.*` + regexp.QuoteMeta(taken) +
					`\s+is\s+already\s+a\s+member.*\(id\s+[0-9a-f-]{36},\s+role\s+viewer,\s+status\s+pending\).*import\s+it`),
			},
		},
	})
}

func isFutureTime(v string) error {
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return err
	}
	if !ts.After(time.Now()) {
		return fmt.Errorf("%s is not in the future", v)
	}
	return nil
}

// TestAccTeamMemberResource_runID traces a Terraform Cloud run: its run id
// reaches the server's audit log with every change the provider makes.
func TestAccTeamMemberResource_runID(t *testing.T) {
	s := acctest.New(t)
	runID := "run-" + strings.ToLower(rand.Text()[:16])
	t.Setenv("TFC_RUN_ID", runID)
	const addr = "chom_team_member.traced"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config: memberConfig(s, "traced", acctest.RandomEmail("traced"), "viewer"),
				Check: func(st *terraform.State) error {
					id := st.RootModule().Resources[addr].Primary.ID
					entries, err := s.AuditEntries(context.Background(), "member", id)
					if err != nil {
						return err
					}
					for _, e := range entries {
						if e.Action != "member.create" {
							continue
						}
						if e.RunID != runID || !strings.HasPrefix(e.UserAgent, "terraform-provider-chom/") {
							return fmt.Errorf("member.create audited with run id %q and agent %q, want %q and the provider's", e.RunID, e.UserAgent, runID)
						}
						return nil
					}
					return fmt.Errorf("no member.create audit entry for %s among %+v", id, entries)
				},
			},
		},
	})
}
