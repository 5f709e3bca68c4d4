// Package backup holds the chom_backup resource, an archive of a site's
// files and database that a change of its restore trigger restores, and
// chom_backup_schedule, when CHOM takes such archives on its own.
package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ resource.Resource                = (*backupResource)(nil)
	_ resource.ResourceWithConfigure   = (*backupResource)(nil)
	_ resource.ResourceWithImportState = (*backupResource)(nil)
)

// Default timeouts: taking and restoring a backup stream the whole site.
const (
	defaultCreateTimeout = 30 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultReadTimeout   = 5 * time.Minute
	defaultDeleteTimeout = 10 * time.Minute
)

const maxDescription = 255

// API error codes the resource waits out.
const (
	codeSiteBusy   = "operation_in_progress"
	codeInProgress = "backup_in_progress"
)

var fields = apidiag.Fields{
	"site_id":     path.Root("site_id"),
	"type":        path.Root("type"),
	"description": path.Root("description"),
}

// NewResource returns the chom_backup resource.
func NewResource() resource.Resource { return &backupResource{} }

type backupResource struct {
	client *client.Client
}

func (r *backupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup"
}

func (r *backupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A backup of a site, taken when the resource is created: CHOM streams the site's files and/or a consistent dump of its database " +
			"from its server into backup storage, encrypted, then reads the archive back and checks it against its SHA-256 before the backup counts as `completed`. " +
			"Creating the resource waits for that. A backup is immutable: changing what it holds replaces it with a new one. " +
			"Destroying the resource deletes the backup and its archive.\n\n" +
			"Set `restore_trigger` to restore the backup into its site: each time its value changes to a new non-empty one " +
			"(a date, a ticket number, a counter), the next apply restores the backup in place, replacing the site's files and/or database content, " +
			"and waits for the restore to finish. The value set when the backup is created restores nothing.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the backup.",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"site_id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the site to back up. Changing it replaces the backup.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "What the backup holds: `full` (the files and, for WordPress and Laravel sites, the database), `files` or `database` " +
					"(not for html sites, which have none). Defaults to `full`. Changing it replaces the backup.",
				Optional:      true,
				Computed:      true,
				Default:       stringdefault.StaticString(client.BackupFull),
				Validators:    []validator.String{stringvalidator.OneOf(client.BackupTypes...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "A note of yours, up to 255 characters. Changing it replaces the backup.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.UTF8LengthAtMost(maxDescription)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"restore_trigger": schema.StringAttribute{
				MarkdownDescription: "Any value; changing it to a new non-empty value restores the backup into its site, in place, on the next apply " +
					"(the site's files and/or database content are replaced by the backup's), and waits for the restore. " +
					"Setting it when the backup is created, or removing it, restores nothing. " +
					"Use a value that says why, such as a date: `restore_trigger = \"2024-06-01 incident 42\"`.",
				Optional: true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`completed` once the backup is stored and verified; `pending`, `running` or `failed` otherwise.",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"size_bytes": schema.Int64Attribute{
				MarkdownDescription: "Size of the stored, encrypted archive in bytes, counted toward the organization's storage quota.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"sha256": schema.StringAttribute{
				MarkdownDescription: "Hex SHA-256 of the archive's content, checked before every restore.",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"storage_location": schema.StringAttribute{
				MarkdownDescription: "Where the archive is in backup storage (opaque).",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"completed_at": schema.StringAttribute{
				MarkdownDescription: "When the backup was completed (RFC 3339).",
				Computed:            true,
				PlanModifiers:       stable,
			},
			"timeouts": timeoutsAttribute(ctx),
		},
	}
}

func timeoutsAttribute(ctx context.Context) schema.Attribute {
	a := timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}).(schema.SingleNestedAttribute)
	a.MarkdownDescription = fmt.Sprintf("How long each operation may take. `create` covers taking the backup (default %d minutes), "+
		"`update` a restore (default %d minutes); `read` defaults to %d minutes and `delete` to %d.",
		int(defaultCreateTimeout.Minutes()), int(defaultUpdateTimeout.Minutes()), int(defaultReadTimeout.Minutes()), int(defaultDeleteTimeout.Minutes()))
	return a
}

func (r *backupResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (r *backupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	opts := client.BackupCreateOptions{
		SiteID:      plan.SiteID.ValueString(),
		Type:        plan.Type.ValueStringPointer(),
		Description: plan.Description.ValueStringPointer(),
	}
	var b *client.Backup
	var op *client.Operation
	// The site may be busy with another operation, such as one started
	// in the same apply.
	err := r.client.RetryWhileBusy(ctx, func() error {
		var err error
		b, op, err = r.client.CreateBackup(ctx, opts)
		return err
	}, codeSiteBusy)
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not back up site", err, fields)
		return
	}
	// The backup exists from here on: the state must know it even if
	// taking it fails or outlasts the timeout.
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), b.ID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "backup started; waiting for it to complete", map[string]any{"backup_id": b.ID, "site_id": b.SiteID})
	if op != nil {
		if _, err := r.client.WaitForOperation(ctx, op.ID); err != nil {
			apidiag.Append(&resp.Diagnostics, "Backup did not complete", waitError(err, b.ID), nil)
			return
		}
	}
	r.readInto(ctx, b.ID, &plan, &resp.State, &resp.Diagnostics)
}

// readInto reads the backup into m and sets m as the state.
func (r *backupResource) readInto(ctx context.Context, id string, m *resourceModel, state *tfsdk.State, diags *diag.Diagnostics) {
	b, err := r.client.Backup(ctx, id)
	if err != nil {
		apidiag.Append(diags, "Could not read backup", err, nil)
		return
	}
	m.FromAPI(b)
	diags.Append(state.Set(ctx, m)...)
}

func (r *backupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state resourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	b, err := r.client.Backup(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "backup no longer exists; removing it from the state", map[string]any{"backup_id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not read backup", err, nil)
		return
	}
	state.FromAPI(b)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update restores the backup when the restore trigger changes to a new
// value; nothing else of a backup changes in place.
func (r *backupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.ID.ValueString()
	if restoreRequested(plan.RestoreTrigger.ValueString(), state.RestoreTrigger.ValueString()) {
		var op *client.Operation
		err := r.client.RetryWhileBusy(ctx, func() error {
			var err error
			op, err = r.client.RestoreBackup(ctx, id, client.BackupRestoreOptions{})
			return err
		}, codeSiteBusy)
		if err == nil && op != nil {
			tflog.Info(ctx, "restoring backup; waiting for the restore to finish", map[string]any{"backup_id": id, "operation_id": op.ID})
			_, err = r.client.WaitForOperation(ctx, op.ID)
		}
		if err != nil {
			apidiag.Append(&resp.Diagnostics, "Could not restore backup", waitError(err, id), nil)
			// The trigger keeps its old value, so that the next apply tries
			// the restore again.
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
	}
	r.readInto(ctx, id, &plan, &resp.State, &resp.Diagnostics)
}

// restoreRequested reports whether a change of the trigger asks for a
// restore: only a change to a new non-empty value does.
func restoreRequested(planned, prior string) bool {
	return planned != "" && planned != prior
}

func (r *backupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state resourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.ID.ValueString()
	// A backup still being taken (its create timed out) cannot go yet.
	err := r.client.RetryWhileBusy(ctx, func() error { return r.client.DeleteBackup(ctx, id) }, codeInProgress)
	if err != nil && !client.IsNotFound(err) {
		apidiag.Append(&resp.Diagnostics, "Could not delete backup", err, nil)
	}
}

func (r *backupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// waitError explains an operation that did not end in time: it goes on
// in CHOM, and the backup is in the state to be read again.
func waitError(err error, id string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w\n\nThe operation goes on in CHOM, and backup %s stays in the state. "+
			"Run terraform apply again once it is done, or raise the timeouts", err, id)
	}
	return err
}
