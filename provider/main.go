// Command terraform-provider-chom is the Terraform provider for the CHOM
// hosting control plane.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/chomhq/chom/provider/internal/provider"
)

// version is set at release time through -ldflags "-X main.version=…".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers such as delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/chomhq/chom",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
