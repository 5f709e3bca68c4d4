package organization

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/client"
)

// dataSourceModel is the state of the chom_organization data source.
type dataSourceModel struct {
	ID         types.String `tfsdk:"id"`
	Name       types.String `tfsdk:"name"`
	Require2FA types.Bool   `tfsdk:"require_2fa"`
	CreatedAt  types.String `tfsdk:"created_at"`
	UpdatedAt  types.String `tfsdk:"updated_at"`
}

// FromAPI copies an organization as the API returned it into the model.
func (m *dataSourceModel) FromAPI(o *client.Organization) {
	m.ID = types.StringValue(o.ID)
	m.Name = types.StringValue(o.Name)
	m.Require2FA = types.BoolValue(o.Require2FA)
	m.CreatedAt = types.StringValue(o.CreatedAt.UTC().Format(time.RFC3339))
	m.UpdatedAt = types.StringValue(o.UpdatedAt.UTC().Format(time.RFC3339))
}
