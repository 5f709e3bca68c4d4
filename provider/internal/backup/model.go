package backup

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/client"
)

// resourceModel is the state of a chom_backup.
type resourceModel struct {
	ID              types.String   `tfsdk:"id"`
	SiteID          types.String   `tfsdk:"site_id"`
	Type            types.String   `tfsdk:"type"`
	Description     types.String   `tfsdk:"description"`
	RestoreTrigger  types.String   `tfsdk:"restore_trigger"`
	Status          types.String   `tfsdk:"status"`
	SizeBytes       types.Int64    `tfsdk:"size_bytes"`
	SHA256          types.String   `tfsdk:"sha256"`
	StorageLocation types.String   `tfsdk:"storage_location"`
	CompletedAt     types.String   `tfsdk:"completed_at"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

// FromAPI copies a backup as the API returned it into the model. The
// restore trigger, which only steers the provider, keeps its value; an
// empty description stays null when the configuration has none.
func (m *resourceModel) FromAPI(b *client.Backup) {
	m.ID = types.StringValue(b.ID)
	m.SiteID = types.StringValue(b.SiteID)
	m.Type = types.StringValue(b.Type)
	if b.Description != "" || !m.Description.IsNull() {
		m.Description = types.StringValue(b.Description)
	}
	m.Status = types.StringValue(b.Status)
	m.SizeBytes = types.Int64PointerValue(b.SizeBytes)
	m.SHA256 = types.StringPointerValue(b.SHA256)
	m.StorageLocation = types.StringPointerValue(b.StorageLocation)
	m.CompletedAt = rfc3339(b.CompletedAt)
}

// rfc3339 renders an optional time for the state, in UTC; null when absent.
func rfc3339(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}
