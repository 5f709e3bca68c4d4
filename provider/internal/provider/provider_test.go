package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/client"
)

func TestClientConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	null := providerModel{
		Endpoint: types.StringNull(), Token: types.StringNull(),
		RequestTimeout: types.StringNull(), MaxRetries: types.Int64Null(),
	}
	with := func(f func(*providerModel)) providerModel {
		m := null
		f(&m)
		return m
	}
	tests := []struct {
		name      string
		model     providerModel
		getenv    func(string) string
		want      client.Config
		wantDiags []string // summaries, errors and warnings alike
	}{
		{
			name:   "all from the environment, as in Terraform Cloud",
			model:  null,
			getenv: env(EnvEndpoint, "https://chom.example.com", EnvToken, "chom_env", EnvRunID, "run-abc"),
			want:   client.Config{Endpoint: "https://chom.example.com", Token: "chom_env", Version: "1.0.0", RunID: "run-abc"},
		},
		{
			name: "configuration wins over the environment",
			model: with(func(m *providerModel) {
				m.Endpoint = types.StringValue("https://config.example.com")
				m.Token = types.StringValue("chom_config")
			}),
			getenv: env(EnvEndpoint, "https://env.example.com", EnvToken, "chom_env"),
			want:   client.Config{Endpoint: "https://config.example.com", Token: "chom_config", Version: "1.0.0"},
		},
		{
			name: "timeout and retries",
			model: with(func(m *providerModel) {
				m.RequestTimeout = types.StringValue("2m")
				m.MaxRetries = types.Int64Value(7)
			}),
			getenv: env(EnvEndpoint, "https://chom.example.com", EnvToken, "t"),
			want:   client.Config{Endpoint: "https://chom.example.com", Token: "t", Version: "1.0.0", RequestTimeout: 2 * time.Minute, MaxRetries: 7},
		},
		{
			name:   "zero retries disables them",
			model:  with(func(m *providerModel) { m.MaxRetries = types.Int64Value(0) }),
			getenv: env(EnvEndpoint, "https://chom.example.com", EnvToken, "t"),
			want:   client.Config{Endpoint: "https://chom.example.com", Token: "t", Version: "1.0.0", MaxRetries: -1},
		},
		{
			name:      "nothing set",
			model:     null,
			getenv:    env(),
			wantDiags: []string{"Missing CHOM endpoint", "Missing CHOM token"},
		},
		{
			name:      "unknown at plan time",
			model:     with(func(m *providerModel) { m.Token = types.StringUnknown(); m.MaxRetries = types.Int64Unknown() }),
			getenv:    env(EnvEndpoint, "https://chom.example.com"),
			wantDiags: []string{"Unknown CHOM provider token", "Unknown CHOM provider max_retries"},
		},
		{
			name:      "clear-text endpoint on the network",
			model:     null,
			getenv:    env(EnvEndpoint, "http://chom.example.com", EnvToken, "t"),
			want:      client.Config{Endpoint: "http://chom.example.com", Token: "t", Version: "1.0.0"},
			wantDiags: []string{"Unencrypted CHOM endpoint"},
		},
		{
			name:   "clear-text endpoint on this machine",
			model:  null,
			getenv: env(EnvEndpoint, "http://127.0.0.1:8080", EnvToken, "t"),
			want:   client.Config{Endpoint: "http://127.0.0.1:8080", Token: "t", Version: "1.0.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := tt.model.clientConfig(tt.getenv, "1.0.0")
			if s := summaries(diags); strings.Join(s, "|") != strings.Join(tt.wantDiags, "|") {
				t.Fatalf("diagnostics = %q, want %q", s, tt.wantDiags)
			}
			if diags.HasError() {
				return
			}
			if got != tt.want {
				t.Errorf("config = %+v\nwant     %+v", got, tt.want)
			}
		})
	}
}

func summaries(diags diag.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary())
	}
	return out
}

// described is an attribute as the documentation sees it.
type described interface {
	GetDescription() string
	GetMarkdownDescription() string
}

// TestSchemasAreDocumented holds every attribute to having a description,
// which is the only source of the generated documentation.
func TestSchemasAreDocumented(t *testing.T) {
	ctx := context.Background()
	p := New("test")()

	var presp fwprovider.SchemaResponse
	p.Schema(ctx, fwprovider.SchemaRequest{}, &presp)
	checkDocumented(t, "provider", presp.Schema.GetMarkdownDescription(), toDescribed(presp.Schema.Attributes))

	var mresp fwprovider.MetadataResponse
	p.Metadata(ctx, fwprovider.MetadataRequest{}, &mresp)

	resources := p.Resources(ctx)
	if len(resources) == 0 {
		t.Fatal("the provider registers no resources")
	}
	for _, newResource := range resources {
		r := newResource()
		var meta resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: mresp.TypeName}, &meta)
		var resp resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &resp)
		if resp.Diagnostics.HasError() {
			t.Fatalf("%s schema: %v", meta.TypeName, resp.Diagnostics)
		}
		if diags := resp.Schema.ValidateImplementation(ctx); diags.HasError() {
			t.Errorf("%s schema: %v", meta.TypeName, diags)
		}
		if _, ok := r.(resource.ResourceWithImportState); !ok {
			t.Errorf("%s cannot be imported", meta.TypeName)
		}
		checkDocumented(t, meta.TypeName, resp.Schema.GetMarkdownDescription(), resourceAttributes(resp.Schema.Attributes))
	}

	withEphemeral, ok := p.(fwprovider.ProviderWithEphemeralResources)
	if !ok {
		t.Fatal("the provider serves no ephemeral resources")
	}
	for _, newEphemeral := range withEphemeral.EphemeralResources(ctx) {
		e := newEphemeral()
		var meta ephemeral.MetadataResponse
		e.Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: mresp.TypeName}, &meta)
		var resp ephemeral.SchemaResponse
		e.Schema(ctx, ephemeral.SchemaRequest{}, &resp)
		if diags := resp.Schema.ValidateImplementation(ctx); diags.HasError() {
			t.Errorf("%s schema: %v", meta.TypeName, diags)
		}
		checkDocumented(t, "ephemeral."+meta.TypeName, resp.Schema.GetMarkdownDescription(), toDescribed(resp.Schema.Attributes))
	}

	dataSources := p.DataSources(ctx)
	if len(dataSources) == 0 {
		t.Fatal("the provider registers no data sources")
	}
	for _, newDataSource := range dataSources {
		d := newDataSource()
		var meta datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: mresp.TypeName}, &meta)
		var resp datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &resp)
		if diags := resp.Schema.ValidateImplementation(ctx); diags.HasError() {
			t.Errorf("%s schema: %v", meta.TypeName, diags)
		}
		checkDocumented(t, "data."+meta.TypeName, resp.Schema.GetMarkdownDescription(), toDescribed(resp.Schema.Attributes))
	}
}

func toDescribed[A described](attrs map[string]A) map[string]described {
	out := make(map[string]described, len(attrs))
	for k, a := range attrs {
		out[k] = a
	}
	return out
}

func checkDocumented(t *testing.T, where, schemaDescription string, attrs map[string]described) {
	t.Helper()
	if schemaDescription == "" {
		t.Errorf("%s has no MarkdownDescription", where)
	}
	if len(attrs) == 0 {
		t.Errorf("%s has no attributes", where)
	}
	for name, a := range attrs {
		if a.GetMarkdownDescription() == "" && a.GetDescription() == "" {
			t.Errorf("%s.%s has no description", where, name)
		}
	}
}

// resourceAttributes flattens nested attributes (timeouts) into dotted names.
func resourceAttributes(attrs map[string]rschema.Attribute) map[string]described {
	out := map[string]described{}
	for name, a := range attrs {
		out[name] = a
		if n, ok := a.(rschema.SingleNestedAttribute); ok {
			for child, d := range resourceAttributes(n.Attributes) {
				out[name+"."+child] = d
			}
		}
	}
	return out
}
