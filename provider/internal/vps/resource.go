// Package vps is the chom_vps resource and data source: a server that CHOM
// reaches over SSH and sets up to host sites.
package vps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
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
	_ resource.Resource                     = (*vpsResource)(nil)
	_ resource.ResourceWithConfigure        = (*vpsResource)(nil)
	_ resource.ResourceWithImportState      = (*vpsResource)(nil)
	_ resource.ResourceWithConfigValidators = (*vpsResource)(nil)
)

// Default timeouts: the bootstrap installs packages, the rest is quick.
const (
	defaultCreateTimeout = 20 * time.Minute
	defaultUpdateTimeout = 20 * time.Minute
	defaultReadTimeout   = 5 * time.Minute
	defaultDeleteTimeout = 10 * time.Minute
)

// codeBusy is the API's answer to a change of the connection while an
// operation works on the server.
const codeBusy = "vps_busy"

// Server defaults, which the schema shows as the attributes' defaults.
const (
	defaultPort     = 22
	defaultSSHUser  = "root"
	defaultCapacity = 50
)

// fields maps the API's validation error fields to attributes. The key is
// reported on whichever of its two attributes the configuration sets.
func fields(keyAttribute string) apidiag.Fields {
	return apidiag.Fields{
		"name":                          path.Root("name"),
		"host":                          path.Root("host"),
		"port":                          path.Root("port"),
		"ssh_user":                      path.Root("ssh_user"),
		"ssh_private_key":               path.Root(keyAttribute),
		"expected_host_key_fingerprint": path.Root("expected_host_key_fingerprint"),
		"labels":                        path.Root("labels"),
		"capacity":                      path.Root("capacity"),
	}
}

// NewResource returns the chom_vps resource.
func NewResource() resource.Resource { return &vpsResource{} }

type vpsResource struct {
	client *client.Client
}

func (r *vpsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_vps"
}

func (r *vpsResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := stableUntilReconnect{}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A server registered with CHOM to host sites. CHOM logs in over SSH as `ssh_user` with the private key, " +
			"pins the server's host key, and bootstraps it: it checks that it runs Debian or Ubuntu, installs what is missing of nginx, " +
			"PHP-FPM and MariaDB, and makes the server `active`. Creating the resource waits for the bootstrap to finish.\n\n" +
			"Give the private key through the write-only `ssh_private_key_wo` (Terraform and OpenTofu 1.11 and later): it is sent to CHOM, " +
			"stored there encrypted, and never written to the plan or the state. Raise `ssh_private_key_wo_version` to send a new key. " +
			"Older CLIs can use `ssh_private_key` instead, which the state keeps (marked sensitive).\n\n" +
			"Destroying the resource removes the server from CHOM without touching anything on it. " +
			"It is refused while sites are allocated to the server, unless `force_delete` is set.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the server; use it to import an existing one.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the server, unique within the organization (1 to 63 characters). Changed in place.",
				Required:            true,
				Validators:          []validator.String{nameValidator},
			},
			"host": schema.StringAttribute{
				MarkdownDescription: "IP address or DNS name CHOM connects to. It must resolve only to addresses the control plane may reach " +
					"(public ones unless the control plane allows others). Changing it replaces the server.",
				Required:      true,
				Validators:    []validator.String{hostValidator},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"port": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("SSH port. Defaults to `%d`. Changing it makes CHOM connect again.", defaultPort),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultPort),
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
			},
			"ssh_user": schema.StringAttribute{
				MarkdownDescription: "User CHOM logs in as: `root`, or a user allowed to run sudo without a password. Defaults to `" + defaultSSHUser + "`. " +
					"Changing it makes CHOM connect again.",
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(defaultSSHUser),
				Validators: []validator.String{stringvalidator.RegexMatches(sshUserPattern,
					"must be a user name: letters, digits, '_', '.' and '-', at most 32, not starting with a digit")},
			},
			"ssh_private_key_wo": schema.StringAttribute{
				MarkdownDescription: "Unencrypted private key (PEM or OpenSSH format) CHOM logs in with, as a write-only argument: it is never stored in the plan or the state, " +
					"so it can come from an ephemeral resource or variable. Requires Terraform or OpenTofu 1.11 or later. " +
					"Set `ssh_private_key_wo_version` with it, and raise the version to send a new key. Exactly one of `ssh_private_key_wo` and `ssh_private_key` is required.",
				Optional:   true,
				WriteOnly:  true,
				Sensitive:  true,
				Validators: []validator.String{privateKeyValidator},
			},
			"ssh_private_key_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `ssh_private_key_wo`. Terraform cannot see a change of a write-only value, so CHOM receives the key when the server is created " +
					"and again, in place, each time this number changes; CHOM then connects with the new key.",
				Optional: true,
			},
			"ssh_private_key": schema.StringAttribute{
				MarkdownDescription: "Unencrypted private key (PEM or OpenSSH format) CHOM logs in with, for Terraform and OpenTofu older than 1.11. " +
					"It is stored in the state, marked sensitive; prefer `ssh_private_key_wo` where the CLI supports it. " +
					"Changing it sends the new key, in place, and CHOM connects with it. Exactly one of `ssh_private_key` and `ssh_private_key_wo` is required.",
				Optional:  true,
				Sensitive: true,
				Validators: []validator.String{
					privateKeyValidator,
					stringvalidator.PreferWriteOnlyAttribute(path.MatchRoot("ssh_private_key_wo")),
				},
			},
			"expected_host_key_fingerprint": schema.StringAttribute{
				MarkdownDescription: "SHA256 fingerprint of the server's host key as `ssh-keygen -l` prints it (`SHA256:…`). When set, CHOM accepts no other key; " +
					"otherwise it trusts the first key it sees and pins it. Setting a new fingerprint on an existing server makes CHOM pin the key the server has now " +
					"if, and only if, it has this fingerprint: the way to accept the new key of a reinstalled server.",
				Optional: true,
				Validators: []validator.String{stringvalidator.RegexMatches(fingerprintPattern,
					"must be a SHA256 fingerprint as ssh-keygen -l prints it, such as SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s")},
			},
			"labels": schema.MapAttribute{
				MarkdownDescription: "Free-form labels. Keys are 1 to 63 letters, digits, `_`, `.` or `-`, starting and ending with a letter or digit; " +
					"values are up to 255 characters; at most 64 labels. Changed in place.",
				Optional:    true,
				ElementType: types.StringType,
				Validators: []validator.Map{
					mapvalidator.SizeAtMost(maxLabels),
					mapvalidator.KeysAre(stringvalidator.RegexMatches(labelKeyPattern,
						"must be 1 to 63 letters, digits, '_', '.' or '-', starting and ending with a letter or digit")),
					mapvalidator.ValueStringsAre(stringvalidator.UTF8LengthAtMost(maxLabelValue)),
				},
			},
			"capacity": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Most sites the server takes. Defaults to `%d`; it cannot go below `sites_allocated`. Changed in place.", defaultCapacity),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultCapacity),
				Validators:          []validator.Int64{int64validator.Between(1, maxCapacity)},
			},
			"force_delete": schema.BoolAttribute{
				MarkdownDescription: "Whether destroying the resource removes the server from CHOM even though sites are allocated to it. " +
					"Those sites stay in CHOM, and on the server, until they are deleted. Defaults to `false`: destroying is refused while the server has sites. " +
					"Only steers the provider; changing it changes nothing in CHOM.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`pending` or `provisioning` while an operation works on the server, `active` when it takes sites, " +
					"`unreachable` when the last health check got no answer, `error` when it needs attention (a failed bootstrap, a changed host key, refused credentials).",
				Computed: true,
			},
			"host_key_fingerprint": schema.StringAttribute{
				MarkdownDescription: "SHA256 fingerprint of the pinned host key.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stable},
			},
			"host_public_key": schema.StringAttribute{
				MarkdownDescription: "The pinned host key, in `authorized_keys` format.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stable},
			},
			"os": schema.StringAttribute{
				MarkdownDescription: "Operating system of the server, as its `os-release` names it.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stable},
			},
			"cpu_count": schema.Int64Attribute{
				MarkdownDescription: "Number of CPUs of the server.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{stable},
			},
			"memory_bytes": schema.Int64Attribute{
				MarkdownDescription: "Memory of the server, in bytes.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{stable},
			},
			"disk_bytes": schema.Int64Attribute{
				MarkdownDescription: "Size of the server's root filesystem, in bytes.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{stable},
			},
			"php_versions": schema.ListAttribute{
				MarkdownDescription: "PHP-FPM versions installed on the server, such as `8.2`.",
				Computed:            true,
				ElementType:         types.StringType,
				PlanModifiers:       []planmodifier.List{stable},
			},
			"sites_allocated": schema.Int64Attribute{
				MarkdownDescription: "Number of sites placed on the server. It changes as sites come and go, also outside this configuration.",
				Computed:            true,
			},
			"timeouts": timeoutsAttribute(ctx),
		},
	}
}

func timeoutsAttribute(ctx context.Context) schema.Attribute {
	a := timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}).(schema.SingleNestedAttribute)
	a.MarkdownDescription = fmt.Sprintf("How long each operation may take, retries of rate-limited or failed API requests included. "+
		"`create` (default %d minutes) covers the bootstrap; `update` (default %d minutes) covers connecting again after a change of the connection settings; "+
		"`read` defaults to %d minutes and `delete` to %d minutes.",
		int(defaultCreateTimeout.Minutes()), int(defaultUpdateTimeout.Minutes()), int(defaultReadTimeout.Minutes()), int(defaultDeleteTimeout.Minutes()))
	return a
}

func (r *vpsResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("ssh_private_key"), path.MatchRoot("ssh_private_key_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("ssh_private_key_wo"), path.MatchRoot("ssh_private_key_wo_version")),
	}
}

func (r *vpsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

// keyAttribute names the attribute the configuration gives the key in.
func keyAttribute(m *resourceModel) string {
	if !m.SSHPrivateKeyWO.IsNull() {
		return "ssh_private_key_wo"
	}
	return "ssh_private_key"
}

func (r *vpsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// Write-only values are only in the configuration.
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
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

	opts := client.VPSCreateOptions{
		Name:                       plan.Name.ValueString(),
		Host:                       plan.Host.ValueString(),
		Port:                       intPointer(plan.Port),
		SSHUser:                    plan.SSHUser.ValueStringPointer(),
		SSHPrivateKey:              privateKey(&config),
		ExpectedHostKeyFingerprint: plan.ExpectedHostKeyFingerprint.ValueStringPointer(),
		Capacity:                   intPointer(plan.Capacity),
	}
	resp.Diagnostics.Append(plan.Labels.ElementsAs(ctx, &opts.Labels, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	v, op, err := r.client.CreateVPS(ctx, opts)
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not register VPS", err, fields(keyAttribute(&config)))
		return
	}
	// The server exists from here on: the state must know it even if the
	// bootstrap fails or outlasts the timeout, so that Terraform can
	// destroy or retry it instead of losing track of it.
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), v.ID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "registered VPS; waiting for its bootstrap", map[string]any{"vps_id": v.ID, "operation_id": opID(op)})
	if op != nil {
		if _, err := r.client.WaitForOperation(ctx, op.ID); err != nil {
			apidiag.Append(&resp.Diagnostics, "VPS bootstrap did not succeed", waitError(err, v.ID), nil)
			return
		}
	}
	r.readInto(ctx, v.ID, &plan, &resp.State, &resp.Diagnostics)
}

// readInto reads the server into m and sets m as the state.
func (r *vpsResource) readInto(ctx context.Context, id string, m *resourceModel, state *tfsdk.State, diags *diag.Diagnostics) {
	v, err := r.client.VPS(ctx, id)
	if err != nil {
		apidiag.Append(diags, "Could not read VPS", err, nil)
		return
	}
	diags.Append(m.FromAPI(ctx, v)...)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, m)...)
}

func (r *vpsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
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

	v, err := r.client.VPS(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "VPS no longer exists; removing it from the state", map[string]any{"vps_id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not read VPS", err, nil)
		return
	}
	resp.Diagnostics.Append(state.FromAPI(ctx, v)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *vpsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
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

	opts, diags := updateOptions(ctx, &plan, &state, &config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	if opts != (client.VPSUpdateOptions{}) {
		var op *client.Operation
		// A change of the connection waits for the operations working on
		// the server, such as sites being provisioned in the same apply.
		err := r.client.RetryWhileBusy(ctx, func() error {
			var err error
			_, op, err = r.client.UpdateVPS(ctx, id, opts)
			return err
		}, codeBusy)
		if err != nil {
			apidiag.Append(&resp.Diagnostics, "Could not update VPS", err, fields(keyAttribute(&config)))
			// Nothing changed: keeping the prior state makes the next plan
			// propose the change again, a new key version included.
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
		if op != nil {
			tflog.Info(ctx, "VPS connection settings changed; waiting for CHOM to connect again", map[string]any{"vps_id": id, "operation_id": op.ID})
			if _, err := r.client.WaitForOperation(ctx, op.ID); err != nil {
				// CHOM recorded the new settings; the state says so, and the
				// server's status says it needs attention.
				r.readInto(ctx, id, &plan, &resp.State, &resp.Diagnostics)
				apidiag.Append(&resp.Diagnostics, "VPS did not connect with the new settings", waitError(err, id), nil)
				return
			}
		}
	}
	r.readInto(ctx, id, &plan, &resp.State, &resp.Diagnostics)
}

// updateOptions sends what changed between the state and the plan. The
// write-only key is sent when its version changes, the fallback key when
// it changes.
func updateOptions(ctx context.Context, plan, state, config *resourceModel) (client.VPSUpdateOptions, diag.Diagnostics) {
	var opts client.VPSUpdateOptions
	var diags diag.Diagnostics
	if !plan.Name.Equal(state.Name) {
		opts.Name = plan.Name.ValueStringPointer()
	}
	if !plan.Port.Equal(state.Port) {
		opts.Port = intPointer(plan.Port)
	}
	if !plan.SSHUser.Equal(state.SSHUser) {
		opts.SSHUser = plan.SSHUser.ValueStringPointer()
	}
	woChanged := !config.SSHPrivateKeyWO.IsNull() && !plan.SSHPrivateKeyWOVersion.Equal(state.SSHPrivateKeyWOVersion)
	fallbackChanged := !plan.SSHPrivateKey.IsNull() && !plan.SSHPrivateKey.Equal(state.SSHPrivateKey)
	if woChanged || fallbackChanged {
		key := privateKey(config)
		opts.SSHPrivateKey = &key
	}
	if !plan.ExpectedHostKeyFingerprint.Equal(state.ExpectedHostKeyFingerprint) {
		fp := plan.ExpectedHostKeyFingerprint.ValueString() // "" stops expecting one
		opts.ExpectedHostKeyFingerprint = &fp
	}
	if !plan.Labels.Equal(state.Labels) {
		// No labels in the plan remove them all: an empty map, not null.
		labels := map[string]string{}
		if !plan.Labels.IsNull() {
			diags.Append(plan.Labels.ElementsAs(ctx, &labels, false)...)
		}
		opts.Labels = &labels
	}
	if !plan.Capacity.Equal(state.Capacity) {
		opts.Capacity = intPointer(plan.Capacity)
	}
	return opts, diags
}

// hasSitesPoll is how often Delete looks again at a server whose sites
// are being deleted.
const hasSitesPoll = 2 * time.Second

func (r *vpsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
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
	force := state.ForceDelete.ValueBool()
	for {
		err := r.client.DeleteVPS(ctx, id, client.VPSDeleteOptions{Force: force})
		if err == nil || client.IsNotFound(err) {
			return
		}
		if !client.HasCode(err, "vps_has_sites") {
			apidiag.Append(&resp.Diagnostics, "Could not delete VPS", err, nil)
			return
		}
		// Sites destroyed in the same run may still be going: wait for
		// them. Any other site is the user's to move or delete.
		sites, lerr := r.client.AllSites(ctx, client.SiteListOptions{VPSID: id})
		if lerr != nil {
			apidiag.Append(&resp.Diagnostics, "Could not delete VPS", errors.Join(err, lerr), nil)
			return
		}
		if blocking := staying(sites); len(blocking) > 0 {
			resp.Diagnostics.AddError("VPS still hosts sites",
				fmt.Sprintf("CHOM refuses to remove VPS %s (%s) while sites are allocated to it: %s.\n\n"+
					"Delete those sites or move them to another server first, or set force_delete = true on the chom_vps to remove the server from CHOM anyway "+
					"(the sites then stay in CHOM and on the server until they are deleted).",
					state.Name.ValueString(), id, strings.Join(blocking, ", ")))
			return
		}
		tflog.Debug(ctx, "VPS sites are being deleted; waiting before removing the VPS", map[string]any{"vps_id": id, "sites": len(sites)})
		select {
		case <-ctx.Done():
			apidiag.Append(&resp.Diagnostics, "Could not delete VPS", fmt.Errorf("waiting for its sites to be deleted: %w", errors.Join(ctx.Err(), err)), nil)
			return
		case <-time.After(hasSitesPoll):
		}
	}
}

// staying lists the sites that are not being deleted, as "domain (id)".
func staying(sites []client.Site) []string {
	var out []string
	for _, s := range sites {
		if s.Status != client.SiteDeleting {
			out = append(out, fmt.Sprintf("%s (%s)", s.Domain, s.ID))
		}
	}
	slices.Sort(out)
	return out
}

func (r *vpsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// privateKey returns the key the configuration gives, in either attribute.
func privateKey(config *resourceModel) string {
	if !config.SSHPrivateKeyWO.IsNull() {
		return config.SSHPrivateKeyWO.ValueString()
	}
	return config.SSHPrivateKey.ValueString()
}

func intPointer(v types.Int64) *int {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := int(v.ValueInt64())
	return &n
}

func opID(op *client.Operation) string {
	if op == nil {
		return ""
	}
	return op.ID
}

// waitError explains an operation that did not end in time: it goes on
// on the server, and the resource is in the state to be read again.
func waitError(err error, id string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w\n\nThe operation goes on in CHOM, and VPS %s stays in the state. "+
			"Run terraform apply again once it is done, or raise the timeouts", err, id)
	}
	return err
}
