package vps

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"golang.org/x/crypto/ssh"

	"github.com/chomhq/chom/provider/internal/client"
)

func TestProblems(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	locked, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		problem func(string) string
		value   string
		want    string // "" for none, else a part of the message
	}{
		{"name", nameProblem, "web-1", ""},
		{"name with spaces inside", nameProblem, "edge one", ""},
		{"name of 63 runes", nameProblem, strings.Repeat("é", 63), ""},
		{"name too long", nameProblem, strings.Repeat("x", 64), "at most 63"},
		{"name empty", nameProblem, "  ", "empty"},
		{"name padded", nameProblem, " web", "start or end with spaces"},
		{"name with a newline", nameProblem, "web\n1", "control characters"},
		{"IPv4 host", hostProblem, "203.0.113.10", ""},
		{"IPv6 host", hostProblem, "2001:db8::1", ""},
		{"IPv6 host with a zone", hostProblem, "fe80::1%eth0", "zone"},
		{"DNS host", hostProblem, "vps-1.example.com", ""},
		{"DNS host with the root's dot", hostProblem, "vps-1.example.com.", ""},
		{"host with a space", hostProblem, "vps 1", "IP address or a DNS name"},
		{"host looking like a bad IPv4 address", hostProblem, "300.1.1.1", "IP address or a DNS name"},
		{"host with a URL", hostProblem, "ssh://vps1", "IP address or a DNS name"},
		{"unencrypted key", privateKeyProblem, string(pem.EncodeToMemory(plain)), ""},
		{"key with a passphrase", privateKeyProblem, string(pem.EncodeToMemory(locked)), "passphrase"},
		{"public key", privateKeyProblem, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6wi5SkEm6FQaokgYzvuX9+vZZxgJzGDzDeyt+mze+u", "not an unencrypted private key"},
		{"empty key", privateKeyProblem, "\n", "empty"},
		{"huge key", privateKeyProblem, strings.Repeat("A", maxPrivateKey+1), "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.problem(tt.value)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("problem(%q) = %q, want %q", tt.value, got, tt.want)
			}
			if strings.Contains(got, "PRIVATE KEY") || strings.Contains(got, "AAAA") {
				t.Errorf("the message quotes the key: %q", got)
			}
		})
	}
	if !fingerprintPattern.MatchString("SHA256:P3y6BCPYbJrVk3IwWVJfpd9VaPDYg6ncIoCPejHiWHA") || fingerprintPattern.MatchString("MD5:aa:bb") {
		t.Error("the fingerprint pattern does not follow ssh-keygen -l")
	}
}

// model returns a model of a registered server; change edits a copy.
func model(t *testing.T, change func(m *resourceModel)) resourceModel {
	t.Helper()
	labels, _ := types.MapValueFrom(context.Background(), types.StringType, map[string]string{"env": "prod"})
	m := resourceModel{
		ID: types.StringValue("vps_1"), Name: types.StringValue("web"), Host: types.StringValue("203.0.113.10"),
		Port: types.Int64Value(22), SSHUser: types.StringValue("root"),
		SSHPrivateKey: types.StringNull(), SSHPrivateKeyWO: types.StringNull(), SSHPrivateKeyWOVersion: types.Int64Value(1),
		ExpectedHostKeyFingerprint: types.StringValue("SHA256:old"), Labels: labels, Capacity: types.Int64Value(50),
		ForceDelete: types.BoolValue(false),
	}
	if change != nil {
		change(&m)
	}
	return m
}

func TestUpdateOptions(t *testing.T) {
	tests := []struct {
		name          string
		plan, state   resourceModel
		configKey     string // the write-only key in the configuration
		want          string // the PATCH body
		wantReconnect bool
	}{
		{
			name:  "only arguments of the provider change: nothing to send",
			plan:  model(t, func(m *resourceModel) { m.ForceDelete = types.BoolValue(true) }),
			state: model(t, nil),
			want:  `{}`,
		},
		{
			name: "settings",
			plan: model(t, func(m *resourceModel) {
				m.Name = types.StringValue("web-2")
				m.Capacity = types.Int64Value(60)
				m.Labels = types.MapNull(types.StringType)
			}),
			state: model(t, nil),
			want:  `{"name":"web-2","labels":{},"capacity":60}`,
		},
		{
			name:          "a new write-only version sends the key in the configuration",
			plan:          model(t, func(m *resourceModel) { m.SSHPrivateKeyWOVersion = types.Int64Value(2) }),
			state:         model(t, nil),
			configKey:     "NEW KEY",
			want:          `{"ssh_private_key":"NEW KEY"}`,
			wantReconnect: true,
		},
		{
			name:      "the same write-only version sends nothing, whatever the configuration holds",
			plan:      model(t, nil),
			state:     model(t, nil),
			configKey: "OTHER KEY",
			want:      `{}`,
		},
		{
			name: "a new sensitive key",
			plan: model(t, func(m *resourceModel) {
				m.SSHPrivateKey, m.SSHPrivateKeyWOVersion = types.StringValue("KEY 2"), types.Int64Null()
			}),
			state: model(t, func(m *resourceModel) {
				m.SSHPrivateKey, m.SSHPrivateKeyWOVersion = types.StringValue("KEY 1"), types.Int64Null()
			}),
			want:          `{"ssh_private_key":"KEY 2"}`,
			wantReconnect: true,
		},
		{
			name: "an expected fingerprint removed is cleared",
			plan: model(t, func(m *resourceModel) {
				m.ExpectedHostKeyFingerprint = types.StringNull()
				m.Port = types.Int64Value(2222)
			}),
			state:         model(t, nil),
			want:          `{"port":2222,"expected_host_key_fingerprint":""}`,
			wantReconnect: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := tt.plan
			if tt.configKey != "" {
				config.SSHPrivateKeyWO = types.StringValue(tt.configKey)
			}
			opts, diags := updateOptions(context.Background(), &tt.plan, &tt.state, &config)
			if diags.HasError() {
				t.Fatal(diags)
			}
			if got := jsonOf(t, opts); got != tt.want {
				t.Errorf("PATCH body = %s, want %s", got, tt.want)
			}
			if reconnect := opts.Port != nil || opts.SSHUser != nil || opts.SSHPrivateKey != nil || opts.ExpectedHostKeyFingerprint != nil; reconnect != tt.wantReconnect {
				t.Errorf("reconnects = %v, want %v", reconnect, tt.wantReconnect)
			}
		})
	}
}

func TestFromAPI(t *testing.T) {
	ctx := context.Background()
	cpu, mem := int64(2), int64(4<<30)
	fp := "SHA256:x"
	v := &client.VPS{ID: "vps_1", Name: "web", Host: "h", Port: 22, SSHUser: "root", Capacity: 50, Status: "active",
		HostKeyFingerprint: &fp, CPUCount: &cpu, MemoryBytes: &mem, PHPVersions: []string{"8.2", "8.3"}}

	// No labels anywhere: they stay null, so leaving them out is no change.
	m := model(t, func(m *resourceModel) { m.Labels = types.MapNull(types.StringType); m.ForceDelete = types.BoolNull() })
	if diags := m.FromAPI(ctx, v); diags.HasError() {
		t.Fatal(diags)
	}
	if !m.Labels.IsNull() || m.ForceDelete.ValueBool() || !m.DiskBytes.IsNull() || m.CPUCount.ValueInt64() != 2 || len(m.PHPVersions.Elements()) != 2 {
		t.Errorf("model = labels %v force %v disk %v cpu %v php %v", m.Labels, m.ForceDelete, m.DiskBytes, m.CPUCount, m.PHPVersions)
	}
	// Labels configured as an empty map stay an empty map.
	empty, _ := types.MapValueFrom(ctx, types.StringType, map[string]string{})
	m = model(t, func(m *resourceModel) { m.Labels = empty })
	m.FromAPI(ctx, v)
	if m.Labels.IsNull() || len(m.Labels.Elements()) != 0 {
		t.Errorf("labels = %v, want an empty map", m.Labels)
	}
	// The key and the provider's own arguments are left alone.
	m = model(t, func(m *resourceModel) {
		m.SSHPrivateKey = types.StringValue("KEY")
		m.ForceDelete = types.BoolValue(true)
	})
	m.FromAPI(ctx, v)
	if m.SSHPrivateKey.ValueString() != "KEY" || !m.ForceDelete.ValueBool() || m.SSHPrivateKeyWOVersion.ValueInt64() != 1 {
		t.Errorf("model = key %v force %v version %v", m.SSHPrivateKey, m.ForceDelete, m.SSHPrivateKeyWOVersion)
	}
}

func TestStableUntilReconnect(t *testing.T) {
	ctx := context.Background()
	var sresp resource.SchemaResponse
	(&vpsResource{}).Schema(ctx, resource.SchemaRequest{}, &sresp)
	sch := sresp.Schema
	withFacts := func(m resourceModel, os types.String) resourceModel {
		m.Status, m.HostKeyFingerprint, m.HostPublicKey, m.OS = types.StringValue("active"), types.StringValue("SHA256:x"), types.StringNull(), os
		m.CPUCount, m.MemoryBytes, m.DiskBytes, m.SitesAllocated = types.Int64Null(), types.Int64Null(), types.Int64Null(), types.Int64Value(0)
		m.PHPVersions = types.ListNull(types.StringType)
		m.Timeouts.Object = types.ObjectNull(sch.Attributes["timeouts"].GetType().(timeouts.Type).AttrTypes)
		return m
	}
	tests := []struct {
		name  string
		plan  resourceModel
		prior types.String
		keep  bool
	}{
		{"a new name keeps what CHOM learnt", model(t, func(m *resourceModel) { m.Name = types.StringValue("web-2") }), types.StringValue("Debian 12"), true},
		{"a new port lets it change", model(t, func(m *resourceModel) { m.Port = types.Int64Value(2222) }), types.StringValue("Debian 12"), false},
		{"a new key version lets it change", model(t, func(m *resourceModel) { m.SSHPrivateKeyWOVersion = types.Int64Value(2) }), types.StringValue("Debian 12"), false},
		{"a new expected fingerprint lets it change", model(t, func(m *resourceModel) { m.ExpectedHostKeyFingerprint = types.StringValue("SHA256:new") }), types.StringValue("Debian 12"), false},
		{"what was not learnt yet may be learnt", model(t, func(m *resourceModel) { m.Name = types.StringValue("web-2") }), types.StringNull(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := tfsdk.State{Schema: sch, Raw: tftypes.NewValue(sch.Type().TerraformType(ctx), nil)}
			plan := tfsdk.Plan{Schema: sch, Raw: tftypes.NewValue(sch.Type().TerraformType(ctx), nil)}
			prior := withFacts(model(t, nil), tt.prior)
			if diags := state.Set(ctx, &prior); diags.HasError() {
				t.Fatal(diags)
			}
			planned := withFacts(tt.plan, types.StringUnknown())
			if diags := plan.Set(ctx, &planned); diags.HasError() {
				t.Fatal(diags)
			}
			req := planmodifier.StringRequest{Plan: plan, State: state, StateValue: tt.prior, PlanValue: types.StringUnknown(), ConfigValue: types.StringNull()}
			resp := planmodifier.StringResponse{PlanValue: req.PlanValue}
			stableUntilReconnect{}.PlanModifyString(ctx, req, &resp)
			if resp.Diagnostics.HasError() {
				t.Fatal(resp.Diagnostics)
			}
			if kept := !resp.PlanValue.IsUnknown(); kept != tt.keep {
				t.Errorf("planned value = %v, want kept %v", resp.PlanValue, tt.keep)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
