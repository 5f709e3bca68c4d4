package backup

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ resource.Resource                   = (*scheduleResource)(nil)
	_ resource.ResourceWithConfigure      = (*scheduleResource)(nil)
	_ resource.ResourceWithImportState    = (*scheduleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*scheduleResource)(nil)
)

// Schedule defaults, the server's own.
const (
	defaultTimezone = "UTC"
	defaultKeepLast = 7
)

var scheduleFields = apidiag.Fields{
	"site_id":   path.Root("site_id"),
	"enabled":   path.Root("enabled"),
	"frequency": path.Root("frequency"),
	"cron":      path.Root("cron"),
	"timezone":  path.Root("timezone"),
	"type":      path.Root("type"),
	"keep_last": path.Root("keep_last"),
	"keep_days": path.Root("keep_days"),
}

// NewScheduleResource returns the chom_backup_schedule resource.
func NewScheduleResource() resource.Resource { return &scheduleResource{} }

type scheduleResource struct {
	client *client.Client
}

// scheduleModel is the state of a chom_backup_schedule.
type scheduleModel struct {
	ID        types.String `tfsdk:"id"`
	SiteID    types.String `tfsdk:"site_id"`
	Enabled   types.Bool   `tfsdk:"enabled"`
	Frequency types.String `tfsdk:"frequency"`
	Cron      types.String `tfsdk:"cron"`
	Timezone  types.String `tfsdk:"timezone"`
	Type      types.String `tfsdk:"type"`
	KeepLast  types.Int64  `tfsdk:"keep_last"`
	KeepDays  types.Int64  `tfsdk:"keep_days"`
	NextRunAt types.String `tfsdk:"next_run_at"`
	LastRunAt types.String `tfsdk:"last_run_at"`
}

func (m *scheduleModel) options() client.BackupScheduleOptions {
	return client.BackupScheduleOptions{
		Enabled:   m.Enabled.ValueBool(),
		Frequency: m.Frequency.ValueString(),
		Cron:      m.Cron.ValueStringPointer(),
		Timezone:  m.Timezone.ValueStringPointer(),
		Type:      m.Type.ValueStringPointer(),
		KeepLast:  m.KeepLast.ValueInt64Pointer(),
		KeepDays:  m.KeepDays.ValueInt64Pointer(),
	}
}

// FromAPI copies the schedule as the API returned it into the model.
func (m *scheduleModel) FromAPI(s *client.BackupSchedule) {
	m.ID = types.StringValue(s.SiteID)
	m.SiteID = types.StringValue(s.SiteID)
	m.Enabled = types.BoolValue(s.Enabled)
	m.Frequency = types.StringValue(s.Frequency)
	m.Cron = types.StringPointerValue(s.Cron)
	m.Timezone = types.StringValue(s.Timezone)
	m.Type = types.StringValue(s.Type)
	m.KeepLast = types.Int64Value(s.KeepLast)
	m.KeepDays = types.Int64PointerValue(s.KeepDays)
	m.NextRunAt = rfc3339(s.NextRunAt)
	m.LastRunAt = rfc3339(s.LastRunAt)
}

func (r *scheduleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup_schedule"
}

func (r *scheduleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "When CHOM backs a site up on its own, and how many of those backups it keeps. A site has one schedule: " +
			"this resource sets it, and destroying the resource turns it off (the backups it already took stay, listed and deletable through the API).\n\n" +
			"`daily` runs once a day and `weekly` once a week on Sunday, at a time of the night (00:00 to 05:59 in `timezone`) fixed for the site, " +
			"so that a fleet's backups do not all start at once; `cron` runs on a five-field expression or a descriptor such as `@every 6h`, at most once an hour. " +
			"After each scheduled backup, the site's scheduled backups beyond the newest `keep_last`, or older than `keep_days`, are deleted; " +
			"the newest is always kept, and backups taken by hand never are.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The site's identifier: a site has one schedule.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"site_id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the site to back up. Changing it turns this site's schedule off and sets the other's.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether the schedule runs. Defaults to `true`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"frequency": schema.StringAttribute{
				MarkdownDescription: "`daily`, `weekly` or `cron`.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(client.ScheduleFrequencies...)},
			},
			"cron": schema.StringAttribute{
				MarkdownDescription: "With `frequency = \"cron\"`, and only then: a five-field cron expression (`30 2 * * *`) or a descriptor " +
					"(`@daily`, `@every 12h`), at most once an hour, in `timezone`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 100)},
			},
			"timezone": schema.StringAttribute{
				MarkdownDescription: "IANA time zone the schedule runs in, such as `Europe/Paris`. Defaults to `UTC`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultTimezone),
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "What each scheduled backup holds: `full`, `files` or `database` (as for `chom_backup`). Defaults to `full`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(client.BackupFull),
				Validators:          []validator.String{stringvalidator.OneOf(client.BackupTypes...)},
			},
			"keep_last": schema.Int64Attribute{
				MarkdownDescription: "Scheduled backups kept, newest first, from 1 to 1000. Defaults to 7.",
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultKeepLast),
				Validators:          []validator.Int64{int64validator.Between(1, 1000)},
			},
			"keep_days": schema.Int64Attribute{
				MarkdownDescription: "Days a scheduled backup is kept after it completed, from 1 to 3650. Unset, backups do not expire and only `keep_last` prunes them.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, 3650)},
			},
			"next_run_at": schema.StringAttribute{
				MarkdownDescription: "When the next scheduled backup starts (RFC 3339); null while the schedule is off.",
				Computed:            true,
			},
			"last_run_at": schema.StringAttribute{
				MarkdownDescription: "When the schedule last started a backup (RFC 3339); null before the first.",
				Computed:            true,
			},
		},
	}
}

// ValidateConfig ties cron to its frequency, at plan time.
func (r *scheduleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m scheduleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Frequency.IsUnknown() || m.Cron.IsUnknown() {
		return
	}
	isCron := m.Frequency.ValueString() == client.ScheduleCron
	switch {
	case isCron && m.Cron.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("cron"), "Missing cron expression",
			`frequency = "cron" needs a cron expression, such as cron = "30 2 * * *" or cron = "@every 12h".`)
	case !isCron && !m.Cron.IsNull() && !m.Frequency.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("cron"), "Cron expression without cron frequency",
			`cron is used only with frequency = "cron"; remove it, or set frequency = "cron".`)
	}
}

func (r *scheduleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (r *scheduleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan scheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.set(ctx, &plan, &resp.State, &resp.Diagnostics)
}

func (r *scheduleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan scheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.set(ctx, &plan, &resp.State, &resp.Diagnostics)
}

// set replaces the site's schedule with the plan's and records the answer.
func (r *scheduleResource) set(ctx context.Context, plan *scheduleModel, state *tfsdk.State, diags *diag.Diagnostics) {
	s, err := r.client.SetBackupSchedule(ctx, plan.SiteID.ValueString(), plan.options())
	if err != nil {
		apidiag.Append(diags, "Could not set the backup schedule", err, scheduleFields)
		return
	}
	plan.FromAPI(s)
	diags.Append(state.Set(ctx, plan)...)
}

func (r *scheduleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state scheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := r.client.BackupSchedule(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "site no longer exists; removing its backup schedule from the state", map[string]any{"site_id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not read the backup schedule", err, nil)
		return
	}
	state.FromAPI(s)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete turns the schedule off: the site keeps the default schedule,
// disabled, and every backup already taken.
func (r *scheduleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state scheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := r.client.SetBackupSchedule(ctx, state.ID.ValueString(), client.BackupScheduleOptions{Enabled: false, Frequency: client.ScheduleDaily})
	if err != nil && !client.IsNotFound(err) {
		apidiag.Append(&resp.Diagnostics, "Could not turn the backup schedule off", err, nil)
	}
}

// ImportState takes the site's id.
func (r *scheduleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
