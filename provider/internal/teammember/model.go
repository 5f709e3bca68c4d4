package teammember

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/chomhq/chom/provider/internal/client"
)

// resourceModel is the state of a chom_team_member.
type resourceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Email               EmailValue     `tfsdk:"email"`
	Role                types.String   `tfsdk:"role"`
	Status              types.String   `tfsdk:"status"`
	UserID              types.String   `tfsdk:"user_id"`
	Name                types.String   `tfsdk:"name"`
	InvitedBy           types.String   `tfsdk:"invited_by"`
	InvitationExpiresAt types.String   `tfsdk:"invitation_expires_at"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

// FromAPI copies a member as the API returned it into the model. The
// invitation token is left out on purpose: state is no place for a secret
// that lets anyone join the organization.
func (m *resourceModel) FromAPI(mem *client.Member) {
	m.ID = types.StringValue(mem.ID)
	m.Email = NewEmailValue(mem.Email)
	m.Role = types.StringValue(mem.Role)
	m.Status = types.StringValue(mem.Status)
	m.UserID = types.StringPointerValue(mem.UserID)
	m.Name = types.StringPointerValue(mem.Name)
	m.InvitedBy = types.StringPointerValue(mem.InvitedBy)
	m.InvitationExpiresAt = timeValue(mem.InvitationExpiresAt)
}

func timeValue(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// EmailType is a string attribute holding an e-mail address that compares
// case-insensitively. The server lower-cases addresses; this type lets the
// configuration keep "Ann@Example.com" without a perpetual diff against
// the "ann@example.com" the API answers.
type EmailType struct {
	basetypes.StringType
}

var _ basetypes.StringTypable = EmailType{}

// Equal reports whether o is an EmailType too.
func (t EmailType) Equal(o attr.Type) bool {
	_, ok := o.(EmailType)
	return ok
}

// String names the type in framework messages.
func (t EmailType) String() string { return "teammember.EmailType" }

// ValueFromString wraps a string value as an EmailValue.
func (t EmailType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return EmailValue{StringValue: in}, nil
}

// ValueFromTerraform decodes a Terraform value into an EmailValue.
func (t EmailType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return EmailValue{StringValue: s}, nil
}

// ValueType returns the value type of EmailType.
func (t EmailType) ValueType(context.Context) attr.Value { return EmailValue{} }

// EmailValue is a value of EmailType.
type EmailValue struct {
	basetypes.StringValue
}

var _ basetypes.StringValuableWithSemanticEquals = EmailValue{}

// NewEmailValue returns a known e-mail value.
func NewEmailValue(s string) EmailValue { return EmailValue{StringValue: basetypes.NewStringValue(s)} }

// Equal reports whether o is an EmailValue with exactly the same state;
// the case-insensitive comparison is StringSemanticEquals.
func (v EmailValue) Equal(o attr.Value) bool {
	other, ok := o.(EmailValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// Type returns EmailType.
func (v EmailValue) Type(context.Context) attr.Type { return EmailType{} }

// StringSemanticEquals makes Terraform keep the configured spelling when
// the API answers the same address in another case.
func (v EmailValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := newValuable.(EmailValue)
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("expected EmailValue, got %T", newValuable))
		return false, diags
	}
	return sameEmail(v.ValueString(), other.ValueString()), diags
}

func sameEmail(a, b string) bool { return strings.EqualFold(a, b) }
