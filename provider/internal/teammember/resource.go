// Package teammember is the chom_team_member resource: a person invited
// into the organization with a role.
package teammember

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ resource.Resource                = (*memberResource)(nil)
	_ resource.ResourceWithConfigure   = (*memberResource)(nil)
	_ resource.ResourceWithImportState = (*memberResource)(nil)
)

// defaultTimeout bounds each operation, retries included, unless the
// configuration's timeouts say otherwise.
const defaultTimeout = 5 * time.Minute

// fields maps the API's validation error fields to attributes.
var fields = apidiag.Fields{
	"email": path.Root("email"),
	"role":  path.Root("role"),
}

// emailPattern catches obvious typos at plan time; the server has the final say.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)

// NewResource returns the chom_team_member resource.
func NewResource() resource.Resource { return &memberResource{} }

type memberResource struct {
	client *client.Client
}

func (r *memberResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_team_member"
}

func (r *memberResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A member of the organization the provider's token belongs to. " +
			"Creating one invites the e-mail address: an address that already has a CHOM account becomes an `active` member at once, " +
			"any other gets a `pending` invitation by e-mail. The invitation token is never stored in the Terraform state. " +
			"Destroying the resource removes the member or withdraws the invitation.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the membership; use it to import an existing member.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"email": schema.StringAttribute{
				MarkdownDescription: "E-mail address of the person. Compared case-insensitively (the server stores it lower-cased), " +
					"so `Ann@Example.com` and `ann@example.com` are the same member. Changing the address to another one replaces the member.",
				Required:   true,
				CustomType: EmailType{},
				Validators: []validator.String{
					stringvalidator.LengthBetween(3, 254),
					stringvalidator.RegexMatches(emailPattern, "must be an e-mail address"),
				},
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIf(
						func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
							resp.RequiresReplace = !sameEmail(req.StateValue.ValueString(), req.PlanValue.ValueString())
						},
						"Changing the address to another one (not just its case) replaces the member.",
						"Changing the address to another one (not just its case) replaces the member.",
					),
				},
			},
			"role": schema.StringAttribute{
				MarkdownDescription: "Role in the organization: `owner`, `admin`, `member` or `viewer`. Changed in place.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(client.Roles...)},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`pending` until the invitation is accepted, then `active`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stableOnceActive{}},
			},
			"user_id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the member's user account; null while the invitation is pending.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stableOnceActive{}},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the member's user account; null while the invitation is pending.",
				Computed:            true,
			},
			"invited_by": schema.StringAttribute{
				MarkdownDescription: "Identifier of the user who invited the member; null for the organization's founder.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"invitation_expires_at": schema.StringAttribute{
				MarkdownDescription: "When a pending invitation expires (RFC 3339); null once the member is active.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stableOnceActive{}},
			},
			"timeouts": timeoutsAttribute(ctx),
		},
	}
}

func timeoutsAttribute(ctx context.Context) schema.Attribute {
	a := timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}).(schema.SingleNestedAttribute)
	a.MarkdownDescription = "How long creating, reading, updating and deleting may each take, retries of rate-limited or failed API requests included. " +
		fmt.Sprintf("Each defaults to %d minutes.", int(defaultTimeout.Minutes()))
	return a
}

func (r *memberResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (r *memberResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	mem, err := r.client.CreateTeamMember(ctx, client.MemberCreateOptions{
		Email: plan.Email.ValueString(),
		Role:  plan.Role.ValueString(),
	})
	if err != nil {
		if client.HasCode(err, "member_exists") {
			if existing, ferr := r.client.FindTeamMemberByEmail(ctx, plan.Email.ValueString()); ferr == nil {
				resp.Diagnostics.AddAttributeError(path.Root("email"), "Team member already exists",
					fmt.Sprintf("%s is already a member of the organization (id %s, role %s, status %s). "+
						"To manage that member with Terraform, import it with that id instead of creating it.",
						existing.Email, existing.ID, existing.Role, existing.Status))
				return
			}
		}
		apidiag.Append(&resp.Diagnostics, "Could not invite team member", err, fields)
		return
	}
	tflog.Info(ctx, "invited CHOM team member", map[string]any{"id": mem.ID, "status": mem.Status})
	plan.FromAPI(mem)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *memberResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state resourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, defaultTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	mem, err := r.client.TeamMember(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "CHOM team member no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not read team member", err, nil)
		return
	}
	state.FromAPI(mem)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *memberResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var (
		mem *client.Member
		err error
	)
	// Only the role changes in place; an e-mail that differs in case alone
	// (the only e-mail change that is not a replacement) needs no request.
	if plan.Role.Equal(state.Role) {
		mem, err = r.client.TeamMember(ctx, state.ID.ValueString())
	} else {
		role := plan.Role.ValueString()
		mem, err = r.client.UpdateTeamMember(ctx, state.ID.ValueString(), client.MemberUpdateOptions{Role: &role})
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not update team member", err, fields)
		return
	}
	plan.FromAPI(mem)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *memberResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state resourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	err := r.client.DeleteTeamMember(ctx, state.ID.ValueString())
	if err != nil && !client.IsNotFound(err) {
		apidiag.Append(&resp.Diagnostics, "Could not remove team member", err, nil)
	}
}

func (r *memberResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// stableOnceActive keeps a computed value from the state while planning an
// update of an active member. Those values change only when an invitation
// is accepted, so for a pending member they stay unknown: a saved plan
// applied after the invitee joined must not promise stale values.
type stableOnceActive struct{}

var _ planmodifier.String = stableOnceActive{}

func (stableOnceActive) Description(context.Context) string {
	return "Once the member is active, the value does not change on update."
}

func (m stableOnceActive) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (stableOnceActive) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || !req.PlanValue.IsUnknown() {
		return
	}
	var status types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("status"), &status)...)
	if status.ValueString() == client.MemberActive {
		resp.PlanValue = req.StateValue
	}
}
