package organization_test

import (
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/chomhq/chom/provider/internal/acctest"
)

func TestMain(m *testing.M) { os.Exit(acctest.Run(m)) }

func TestAccOrganizationDataSource(t *testing.T) {
	s := acctest.New(t)
	// A second organization on the same server must not leak into the answer.
	other := s.Register(t, "Other")
	if other.Organization.ID == s.Organization.ID {
		t.Fatal("the second registration joined the first organization")
	}
	const addr = "data.chom_organization.current"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: s.Config(`data "chom_organization" "current" {}`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(s.Organization.ID)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact(s.Organization.Name)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("require_2fa"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("created_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("updated_at"), knownvalue.NotNull()),
				},
			},
		},
	})
}
