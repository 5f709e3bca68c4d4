package vps_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/chomhq/chom/provider/internal/acctest"
)

// TestAccVPSDataSource looks up servers registered outside Terraform, by
// name and by id.
func TestAccVPSDataSource(t *testing.T) {
	hosts := acctest.Hosts(t, 2)
	s := acctest.New(t)
	v1, v2 := s.RegisterVPS(t, "edge one", hosts[0]), s.RegisterVPS(t, "edge two", hosts[1])
	config := s.Config(fmt.Sprintf(`
data "chom_vps" "by_name" {
  name = "edge two"
}

data "chom_vps" "by_id" {
  id = %q
}
`, v1.ID))

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.chom_vps.by_name", tfjsonpath.New("id"), knownvalue.StringExact(v2.ID)),
					statecheck.ExpectKnownValue("data.chom_vps.by_name", tfjsonpath.New("host"), knownvalue.StringExact(hosts[1].Address)),
					statecheck.ExpectKnownValue("data.chom_vps.by_name", tfjsonpath.New("host_key_fingerprint"), knownvalue.StringExact(hosts[1].HostKeyFingerprint)),
					statecheck.ExpectKnownValue("data.chom_vps.by_name", tfjsonpath.New("labels"), knownvalue.MapSizeExact(0)),
					statecheck.ExpectKnownValue("data.chom_vps.by_id", tfjsonpath.New("name"), knownvalue.StringExact("edge one")),
					statecheck.ExpectKnownValue("data.chom_vps.by_id", tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue("data.chom_vps.by_id", tfjsonpath.New("capacity"), knownvalue.Int64Exact(50)),
					statecheck.ExpectKnownValue("data.chom_vps.by_id", tfjsonpath.New("php_versions"), knownvalue.ListSizeExact(len(v1.PHPVersions))),
					statecheck.ExpectKnownValue("data.chom_vps.by_id", tfjsonpath.New("cpu_count"), knownvalue.Int64Exact(*v1.CPUCount)),
				},
			},
			{
				Config:      s.Config("data \"chom_vps\" \"missing\" {\n  name = \"edge three\"\n}\n"),
				ExpectError: acctest.Words(`Could not find VPS`, `no VPS named "edge three"`),
			},
			// A configuration that reads, for the destroy at the end.
			{Config: config},
		},
	})
}
