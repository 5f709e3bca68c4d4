package site

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/chomhq/chom/internal/hostname"
	"github.com/chomhq/chom/provider/internal/client"
)

// HostnameType is a string attribute holding a host name, compared the way
// the server stores it: lower-case, without the trailing dot of the root.
// The configuration keeps its own spelling ("Example.COM.") without a
// perpetual diff against the "example.com" the API answers.
type HostnameType struct {
	basetypes.StringType
}

var _ basetypes.StringTypable = HostnameType{}

// Equal reports whether o is a HostnameType too.
func (t HostnameType) Equal(o attr.Type) bool {
	_, ok := o.(HostnameType)
	return ok
}

// String names the type in framework messages.
func (t HostnameType) String() string { return "site.HostnameType" }

// ValueFromString wraps a string value as a HostnameValue.
func (t HostnameType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return HostnameValue{StringValue: in}, nil
}

// ValueFromTerraform decodes a Terraform value into a HostnameValue.
func (t HostnameType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return HostnameValue{StringValue: s}, nil
}

// ValueType returns the value type of HostnameType.
func (t HostnameType) ValueType(context.Context) attr.Value { return HostnameValue{} }

// HostnameValue is a value of HostnameType.
type HostnameValue struct {
	basetypes.StringValue
}

var _ basetypes.StringValuableWithSemanticEquals = HostnameValue{}

// NewHostnameValue returns a known host name value.
func NewHostnameValue(s string) HostnameValue {
	return HostnameValue{StringValue: basetypes.NewStringValue(s)}
}

// NewHostnameNull returns a null host name value.
func NewHostnameNull() HostnameValue { return HostnameValue{StringValue: basetypes.NewStringNull()} }

// Equal reports whether o is a HostnameValue with exactly the same state;
// the normalised comparison is StringSemanticEquals.
func (v HostnameValue) Equal(o attr.Value) bool {
	other, ok := o.(HostnameValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// Type returns HostnameType.
func (v HostnameValue) Type(context.Context) attr.Type { return HostnameType{} }

// StringSemanticEquals makes Terraform keep the configured spelling when
// the API answers the same name normalised.
func (v HostnameValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := newValuable.(HostnameValue)
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("expected HostnameValue, got %T", newValuable))
		return false, diags
	}
	return sameHostname(v.ValueString(), other.ValueString()), diags
}

func sameHostname(a, b string) bool {
	return client.NormalizeHostname(a) == client.NormalizeHostname(b)
}

// hostnameProblem says why the server would refuse a host name, or "":
// the rule is the server's own (package hostname).
func hostnameProblem(raw string) string {
	name := client.NormalizeHostname(raw)
	switch {
	case name != strings.TrimSuffix(strings.ToLower(raw), "."):
		return "must not have surrounding spaces"
	case name == "":
		return "must not be empty"
	}
	return hostname.Problem(name)
}

// hostnameValidator checks a host name at plan time.
type hostnameValidator struct{}

var _ validator.String = hostnameValidator{}

func (hostnameValidator) Description(context.Context) string {
	return "value must be a fully qualified host name such as example.com"
}

func (v hostnameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (hostnameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := hostnameProblem(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid host name", fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), msg))
	}
}
