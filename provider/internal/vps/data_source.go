package vps

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ datasource.DataSource                     = (*vpsDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*vpsDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*vpsDataSource)(nil)
)

// NewDataSource returns the chom_vps data source.
func NewDataSource() datasource.DataSource { return &vpsDataSource{} }

type vpsDataSource struct {
	client *client.Client
}

func (d *vpsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_vps"
}

func (d *vpsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: description, Computed: true}
	}
	computedInt := func(description string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: description, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A server of the organization, found by `id` or by `name`: for example one registered outside this configuration, to place sites on.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the server. Exactly one of `id` and `name` is required.",
				Optional:            true,
				Computed:            true,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the server. Exactly one of `id` and `name` is required.",
				Optional:            true,
				Computed:            true,
			},
			"host":                          computed("IP address or DNS name CHOM connects to."),
			"port":                          computedInt("SSH port."),
			"ssh_user":                      computed("User CHOM logs in as."),
			"expected_host_key_fingerprint": computed("The only host key fingerprint CHOM accepts; null when it trusted the first key it saw."),
			"labels": schema.MapAttribute{
				MarkdownDescription: "Free-form labels of the server.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"capacity":             computedInt("Most sites the server takes."),
			"status":               computed("`pending`, `provisioning`, `active`, `unreachable` or `error`; see the `chom_vps` resource."),
			"host_key_fingerprint": computed("SHA256 fingerprint of the pinned host key; null until CHOM first connected."),
			"host_public_key":      computed("The pinned host key, in `authorized_keys` format; null until CHOM first connected."),
			"os":                   computed("Operating system of the server, as its `os-release` names it; null until inspected."),
			"cpu_count":            computedInt("Number of CPUs; null until inspected."),
			"memory_bytes":         computedInt("Memory, in bytes; null until inspected."),
			"disk_bytes":           computedInt("Size of the root filesystem, in bytes; null until inspected."),
			"php_versions": schema.ListAttribute{
				MarkdownDescription: "PHP-FPM versions installed, such as `8.2`.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"sites_allocated": computedInt("Number of sites placed on the server."),
		},
	}
}

func (d *vpsDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *vpsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (d *vpsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m dataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var v *client.VPS
	var err error
	if !m.ID.IsNull() {
		v, err = d.client.VPS(ctx, m.ID.ValueString())
	} else {
		v, err = d.client.FindVPSByName(ctx, m.Name.ValueString())
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not find VPS", err, apidiag.Fields{})
		return
	}
	resp.Diagnostics.Append(m.FromAPI(ctx, v)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
