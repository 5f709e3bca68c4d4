package vps

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
)

// connectionAttributes are the arguments whose change makes CHOM connect
// to the server again, which may pin another host key and inspect the
// server anew.
var connectionAttributes = []string{"port", "ssh_user", "ssh_private_key", "ssh_private_key_wo_version", "expected_host_key_fingerprint"}

// stableUntilReconnect plans what CHOM learnt about the server (its host
// key, operating system, hardware and PHP versions) to stay as it is,
// unless the update makes CHOM connect to the server again. A value not
// learnt yet (null) stays unknown: the update may learn it.
type stableUntilReconnect struct {
	// attributes whose change lets the value change; connectionAttributes
	// when nil.
	attributes []string
}

var (
	_ planmodifier.String = stableUntilReconnect{}
	_ planmodifier.Int64  = stableUntilReconnect{}
	_ planmodifier.List   = stableUntilReconnect{}
)

func (m stableUntilReconnect) Description(context.Context) string {
	return "The value stays the same unless the update makes CHOM connect to the server again."
}

func (m stableUntilReconnect) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

// keep reports whether the planned value should be the state's.
func (m stableUntilReconnect) keep(ctx context.Context, plan tfsdk.Plan, state tfsdk.State, stateValue, planValue, configValue attr.Value, diags *diag.Diagnostics) bool {
	if state.Raw.IsNull() || plan.Raw.IsNull() || !planValue.IsUnknown() || configValue.IsUnknown() || stateValue.IsNull() {
		return false
	}
	attrs := m.attributes
	if attrs == nil {
		attrs = connectionAttributes
	}
	for _, name := range attrs {
		var planned, prior attr.Value
		diags.Append(plan.GetAttribute(ctx, path.Root(name), &planned)...)
		diags.Append(state.GetAttribute(ctx, path.Root(name), &prior)...)
		if diags.HasError() || !planned.Equal(prior) {
			return false
		}
	}
	return true
}

func (m stableUntilReconnect) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if m.keep(ctx, req.Plan, req.State, req.StateValue, req.PlanValue, req.ConfigValue, &resp.Diagnostics) {
		resp.PlanValue = req.StateValue
	}
}

func (m stableUntilReconnect) PlanModifyInt64(ctx context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	if m.keep(ctx, req.Plan, req.State, req.StateValue, req.PlanValue, req.ConfigValue, &resp.Diagnostics) {
		resp.PlanValue = req.StateValue
	}
}

func (m stableUntilReconnect) PlanModifyList(ctx context.Context, req planmodifier.ListRequest, resp *planmodifier.ListResponse) {
	if m.keep(ctx, req.Plan, req.State, req.StateValue, req.PlanValue, req.ConfigValue, &resp.Diagnostics) {
		resp.PlanValue = req.StateValue
	}
}
