package teammember

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/chomhq/chom/provider/internal/client"
)

func TestEmailSemanticEquals(t *testing.T) {
	tests := []struct {
		prior, next string
		want        bool
	}{
		{"ann@example.com", "ann@example.com", true},
		{"Ann@Example.COM", "ann@example.com", true},
		{"ann@example.com", "anne@example.com", false},
		{"ann@example.com", "ann@example.org", false},
	}
	for _, tt := range tests {
		got, diags := NewEmailValue(tt.prior).StringSemanticEquals(context.Background(), NewEmailValue(tt.next))
		if diags.HasError() {
			t.Fatalf("%q vs %q: %v", tt.prior, tt.next, diags)
		}
		if got != tt.want {
			t.Errorf("%q vs %q: equal = %v, want %v", tt.prior, tt.next, got, tt.want)
		}
	}
	if _, diags := NewEmailValue("a@b.c").StringSemanticEquals(context.Background(), basetypes.NewStringValue("a@b.c")); !diags.HasError() {
		t.Error("comparing with a plain string: want an error diagnostic")
	}
}

func TestEmailTypeRoundTrip(t *testing.T) {
	ctx := context.Background()
	v := NewEmailValue("Ann@Example.com")
	tf, err := v.ToTerraformValue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	back, err := EmailType{}.ValueFromTerraform(ctx, tf)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(v) {
		t.Errorf("round trip = %v, want %v", back, v)
	}
	if v.Equal(basetypes.NewStringValue("Ann@Example.com")) {
		t.Error("an EmailValue equals a plain string value")
	}
}

func TestFromAPI(t *testing.T) {
	expires := time.Date(2030, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 2*3600))
	userID, name, inviter := "usr_2", "Ann", "usr_1"
	tests := []struct {
		name string
		in   client.Member
		want resourceModel
	}{
		{
			name: "pending",
			in: client.Member{ID: "mem_1", Email: "ann@example.com", Role: "member", Status: "pending",
				InvitedBy: &inviter, InvitationExpiresAt: &expires, InvitationToken: "secret"},
			want: resourceModel{
				ID: types.StringValue("mem_1"), Email: NewEmailValue("ann@example.com"), Role: types.StringValue("member"),
				Status: types.StringValue("pending"), UserID: types.StringNull(), Name: types.StringNull(),
				InvitedBy: types.StringValue("usr_1"), InvitationExpiresAt: types.StringValue("2030-05-06T05:08:09Z"),
			},
		},
		{
			name: "active",
			in:   client.Member{ID: "mem_2", Email: "ann@example.com", Role: "admin", Status: "active", UserID: &userID, Name: &name},
			want: resourceModel{
				ID: types.StringValue("mem_2"), Email: NewEmailValue("ann@example.com"), Role: types.StringValue("admin"),
				Status: types.StringValue("active"), UserID: types.StringValue("usr_2"), Name: types.StringValue("Ann"),
				InvitedBy: types.StringNull(), InvitationExpiresAt: types.StringNull(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got resourceModel
			got.FromAPI(&tt.in)
			for _, c := range []struct {
				field     string
				got, want interface{ String() string }
			}{
				{"id", got.ID, tt.want.ID}, {"email", got.Email, tt.want.Email}, {"role", got.Role, tt.want.Role},
				{"status", got.Status, tt.want.Status}, {"user_id", got.UserID, tt.want.UserID}, {"name", got.Name, tt.want.Name},
				{"invited_by", got.InvitedBy, tt.want.InvitedBy}, {"invitation_expires_at", got.InvitationExpiresAt, tt.want.InvitationExpiresAt},
			} {
				if c.got.String() != c.want.String() {
					t.Errorf("%s = %s, want %s", c.field, c.got, c.want)
				}
			}
		})
	}
}
