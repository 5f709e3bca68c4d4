// Package provider is the CHOM Terraform provider: its configuration, the
// API client it builds from it, and the registry of resources and data
// sources. Each resource family lives in its own package.
package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/chomhq/chom/provider/internal/backup"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/organization"
	"github.com/chomhq/chom/provider/internal/site"
	"github.com/chomhq/chom/provider/internal/teammember"
	"github.com/chomhq/chom/provider/internal/vps"
)

// Environment variables the provider reads.
const (
	EnvEndpoint = "CHOM_ENDPOINT"
	EnvToken    = "CHOM_TOKEN"
	// EnvRunID is set by Terraform Cloud / Terraform Enterprise in remote runs.
	EnvRunID = "TFC_RUN_ID"
)

var (
	_ provider.Provider                       = (*chomProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*chomProvider)(nil)
)

type chomProvider struct {
	version string
	getenv  func(string) string
}

// New returns a constructor of the provider at version, as providerserver
// and the acceptance tests want it.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &chomProvider{version: version, getenv: os.Getenv} }
}

type providerModel struct {
	Endpoint       types.String `tfsdk:"endpoint"`
	Token          types.String `tfsdk:"token"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	MaxRetries     types.Int64  `tfsdk:"max_retries"`
}

func (p *chomProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "chom"
	resp.Version = p.version
}

func (p *chomProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages a CHOM hosting control plane through its API. " +
			"Set `endpoint` and `token` here or, in Terraform Cloud and CI, through the `" + EnvEndpoint + "` and `" + EnvToken + "` environment variables.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of the CHOM control plane, such as `https://chom.example.com`. " +
					"Defaults to the `" + EnvEndpoint + "` environment variable.",
				Optional: true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "API token (`chom_…`) of the organization to manage; its user's role and the token's abilities limit what the provider may do. " +
					"Defaults to the `" + EnvToken + "` environment variable.",
				Optional:  true,
				Sensitive: true,
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "How long one attempt of one API request may take, as a Go duration such as `30s` or `2m`. " +
					"Defaults to `" + client.DefaultRequestTimeout.String() + "`.",
				Optional:   true,
				Validators: []validator.String{durationValidator{}},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times a request that failed with a rate limit (429), a server error (5xx) or a dropped connection "+
					"is sent again, with exponential backoff that honours `Retry-After`. Only requests that are safe to repeat are retried. "+
					"`0` disables retries. Defaults to `%d`.", client.DefaultMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 20)},
			},
		},
	}
}

func (p *chomProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, diags := m.clientConfig(p.getenv, p.version)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := client.New(cfg)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid CHOM endpoint", err.Error())
		return
	}
	tflog.Debug(ctx, "configured CHOM provider", map[string]any{
		"endpoint": cfg.Endpoint, "run_id": cfg.RunID, "request_timeout": cfg.RequestTimeout.String(), "max_retries": cfg.MaxRetries,
	})
	resp.ResourceData = c
	resp.DataSourceData = c
	resp.EphemeralResourceData = c
}

// clientConfig resolves the provider configuration against the
// environment: a value in the configuration wins over the variable.
func (m providerModel) clientConfig(getenv func(string) string, version string) (client.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	unknown := []struct {
		attr    string
		unknown bool
	}{
		{"endpoint", m.Endpoint.IsUnknown()},
		{"token", m.Token.IsUnknown()},
		{"request_timeout", m.RequestTimeout.IsUnknown()},
		{"max_retries", m.MaxRetries.IsUnknown()},
	}
	for _, u := range unknown {
		if u.unknown {
			diags.AddAttributeError(path.Root(u.attr), "Unknown CHOM provider "+u.attr,
				"The provider cannot be configured with a value known only after apply. Use a literal, a variable, or the environment.")
		}
	}
	if diags.HasError() {
		return client.Config{}, diags
	}

	cfg := client.Config{
		Endpoint: valueOrEnv(m.Endpoint, getenv(EnvEndpoint)),
		Token:    valueOrEnv(m.Token, getenv(EnvToken)),
		Version:  version,
		RunID:    getenv(EnvRunID),
	}
	if cfg.Endpoint == "" {
		diags.AddAttributeError(path.Root("endpoint"), "Missing CHOM endpoint",
			"Set endpoint in the provider block or the "+EnvEndpoint+" environment variable to the control plane's URL.")
	} else if u, err := url.Parse(cfg.Endpoint); err == nil && u.Scheme == "http" && !loopback(u.Hostname()) {
		diags.AddAttributeWarning(path.Root("endpoint"), "Unencrypted CHOM endpoint",
			"The endpoint uses http:// to a host other than this machine: the API token travels in clear text. Use https://.")
	}
	if cfg.Token == "" {
		diags.AddAttributeError(path.Root("token"), "Missing CHOM token",
			"Set token in the provider block or the "+EnvToken+" environment variable to an API token (chom_…).")
	}
	if s := m.RequestTimeout.ValueString(); s != "" {
		// The validator already rejected anything that does not parse.
		cfg.RequestTimeout, _ = time.ParseDuration(s)
	}
	if !m.MaxRetries.IsNull() {
		cfg.MaxRetries = int(m.MaxRetries.ValueInt64())
		if cfg.MaxRetries == 0 {
			cfg.MaxRetries = -1 // the client reads zero as "use the default"
		}
	}
	return cfg, diags
}

func valueOrEnv(v types.String, env string) string {
	if !v.IsNull() && v.ValueString() != "" {
		return v.ValueString()
	}
	return env
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Resources lists every resource type; a new family adds one line.
func (p *chomProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		teammember.NewResource,
		vps.NewResource,
		site.NewResource,
		backup.NewResource,
		backup.NewScheduleResource,
	}
}

// DataSources lists every data source type; a new family adds one line.
func (p *chomProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		organization.NewDataSource,
		vps.NewDataSource,
		site.NewDataSource,
		site.NewListDataSource,
	}
}

// EphemeralResources lists every ephemeral resource type; a new family
// adds one line.
func (p *chomProvider) EphemeralResources(_ context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		site.NewCredentialsEphemeralResource,
	}
}
