package site

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ datasource.DataSource              = (*sitesDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*sitesDataSource)(nil)
)

// NewListDataSource returns the chom_sites data source.
func NewListDataSource() datasource.DataSource { return &sitesDataSource{} }

type sitesDataSource struct {
	client *client.Client
}

// listModel is the state of the chom_sites data source.
type listModel struct {
	ID     types.String `tfsdk:"id"`
	Status types.String `tfsdk:"status"`
	Type   types.String `tfsdk:"type"`
	VPSID  types.String `tfsdk:"vps_id"`
	Sites  []siteObject `tfsdk:"sites"`
}

func (d *sitesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sites"
}

func (d *sitesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The organization's sites, oldest first, optionally only those in a status, of a type or on a server.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of this list: its filters, as `status=…,type=…,vps_id=…`.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Only sites in this status: `provisioning`, `active`, `suspended`, `failed` or `deleting`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(client.SiteStatuses...)},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "Only sites of this type: `html`, `wordpress` or `laravel`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(client.SiteTypes...)},
			},
			"vps_id": schema.StringAttribute{
				MarkdownDescription: "Only sites on this server.",
				Optional:            true,
			},
			"sites": schema.ListNestedAttribute{
				MarkdownDescription: "The sites, oldest first.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: siteAttributes(false)},
			},
		},
	}
}

func (d *sitesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (d *sitesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m listModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	opts := client.SiteListOptions{Status: m.Status.ValueString(), Type: m.Type.ValueString(), VPSID: m.VPSID.ValueString()}
	sites, err := d.client.AllSites(ctx, opts)
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not list sites", err, nil)
		return
	}
	m.ID = types.StringValue(strings.Join([]string{"status=" + opts.Status, "type=" + opts.Type, "vps_id=" + opts.VPSID}, ","))
	m.Sites = make([]siteObject, len(sites))
	for i := range sites {
		resp.Diagnostics.Append(m.Sites[i].FromAPI(ctx, &sites[i])...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
