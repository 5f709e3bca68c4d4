package backup

import (
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/client"
)

func TestRestoreRequested(t *testing.T) {
	tests := []struct {
		planned, prior string
		want           bool
	}{
		{"incident 42", "", true},
		{"incident 43", "incident 42", true},
		{"incident 42", "incident 42", false},
		{"", "incident 42", false}, // removing the trigger restores nothing
		{"", "", false},
	}
	for _, tt := range tests {
		if got := restoreRequested(tt.planned, tt.prior); got != tt.want {
			t.Errorf("restoreRequested(%q, %q) = %v, want %v", tt.planned, tt.prior, got, tt.want)
		}
	}
}

func TestFromAPI(t *testing.T) {
	size, sum, key := int64(1234), "ab12", "org/site/bak_1.age"
	done := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	completed := &client.Backup{ID: "bak_1", SiteID: "site_1", Type: "files", Status: "completed",
		SizeBytes: &size, SHA256: &sum, StorageLocation: &key, CompletedAt: &done}

	m := resourceModel{Description: types.StringNull(), RestoreTrigger: types.StringValue("incident 42")}
	m.FromAPI(completed)
	if !m.Description.IsNull() || m.RestoreTrigger.ValueString() != "incident 42" || m.SizeBytes.ValueInt64() != 1234 ||
		m.CompletedAt.ValueString() != "2030-01-02T02:04:05Z" || m.SHA256.ValueString() != "ab12" {
		t.Errorf("model = %+v", m)
	}
	// An empty description configured as such stays empty, not null.
	m = resourceModel{Description: types.StringValue("")}
	m.FromAPI(completed)
	if m.Description.IsNull() || m.Description.ValueString() != "" {
		t.Errorf("description = %v, want empty", m.Description)
	}
	// A backup still running has no checksum yet.
	m = resourceModel{Description: types.StringNull()}
	m.FromAPI(&client.Backup{ID: "bak_2", Status: "running", Description: "nightly"})
	if !m.SHA256.IsNull() || !m.SizeBytes.IsNull() || !m.CompletedAt.IsNull() || m.Description.ValueString() != "nightly" {
		t.Errorf("model = %+v", m)
	}
}

func TestScheduleModel(t *testing.T) {
	next := time.Date(2030, 1, 2, 4, 0, 0, 0, time.FixedZone("CET", 3600))
	keepDays := int64(30)
	var m scheduleModel
	m.FromAPI(&client.BackupSchedule{SiteID: "site_1", Enabled: true, Frequency: "daily", Timezone: "Europe/Paris",
		Type: "full", KeepLast: 7, KeepDays: &keepDays, NextRunAt: &next})
	if m.ID.ValueString() != "site_1" || !m.Cron.IsNull() || m.KeepDays.ValueInt64() != 30 ||
		m.NextRunAt.ValueString() != "2030-01-02T03:00:00Z" || !m.LastRunAt.IsNull() {
		t.Errorf("model = %+v", m)
	}
	// Unset optional attributes are left to the server's defaults.
	m = scheduleModel{Enabled: types.BoolValue(false), Frequency: types.StringValue("weekly"),
		Cron: types.StringNull(), Timezone: types.StringValue("UTC"), KeepDays: types.Int64Null()}
	o := m.options()
	if o.Enabled || o.Frequency != "weekly" || o.Cron != nil || o.KeepDays != nil || o.Timezone == nil || *o.Timezone != "UTC" {
		t.Errorf("options = %+v", o)
	}
}
