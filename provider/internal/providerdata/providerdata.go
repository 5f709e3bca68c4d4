// Package providerdata hands the provider's configured API client to its
// resources and data sources.
package providerdata

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/chomhq/chom/provider/internal/client"
)

// Client returns the client the provider configured, or nil while the
// provider is not configured yet (Terraform validates configuration and
// plans imports before configuring providers).
func Client(data any, diags *diag.Diagnostics) *client.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client.Client)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *client.Client, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return c
}
