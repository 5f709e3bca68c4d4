package site

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ ephemeral.EphemeralResource              = (*credentialsEphemeralResource)(nil)
	_ ephemeral.EphemeralResourceWithConfigure = (*credentialsEphemeralResource)(nil)
)

// NewCredentialsEphemeralResource returns the
// chom_site_database_credentials ephemeral resource.
func NewCredentialsEphemeralResource() ephemeral.EphemeralResource {
	return &credentialsEphemeralResource{}
}

type credentialsEphemeralResource struct {
	client *client.Client
}

// credentialsModel is the result of chom_site_database_credentials.
type credentialsModel struct {
	SiteID   types.String `tfsdk:"site_id"`
	Username types.String `tfsdk:"username"`
	Password types.String `tfsdk:"password"`
	Host     types.String `tfsdk:"host"`
	Database types.String `tfsdk:"database"`
}

func (e *credentialsEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_site_database_credentials"
}

func (e *credentialsEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The database credentials of a WordPress or Laravel site, read when Terraform needs them and never stored in the plan or the state: " +
			"pass them to write-only arguments, provider configurations or other ephemeral contexts. " +
			"Requires Terraform 1.10 or OpenTofu 1.11 or later, and a token whose user may reveal secrets (owner or admin). " +
			"CHOM records every read in its audit log. html sites have no database.",
		Attributes: map[string]schema.Attribute{
			"site_id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the site.",
				Required:            true,
			},
			"username": schema.StringAttribute{
				MarkdownDescription: "MariaDB user of the site's database.",
				Computed:            true,
			},
			"password": schema.StringAttribute{
				MarkdownDescription: "Password of the MariaDB user.",
				Computed:            true,
				Sensitive:           true,
			},
			"host": schema.StringAttribute{
				MarkdownDescription: "Where the database listens, as seen from the site's server: `localhost`, its own socket.",
				Computed:            true,
			},
			"database": schema.StringAttribute{
				MarkdownDescription: "Name of the site's database.",
				Computed:            true,
			},
		},
	}
}

func (e *credentialsEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (e *credentialsEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m credentialsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cr, err := e.client.SiteCredentials(ctx, m.SiteID.ValueString())
	if err != nil {
		if client.HasCode(err, "no_database") {
			resp.Diagnostics.AddAttributeError(path.Root("site_id"), "Site has no database",
				"Site "+m.SiteID.ValueString()+" is an html site: only WordPress and Laravel sites have a database.")
			return
		}
		apidiag.Append(&resp.Diagnostics, "Could not read site database credentials", err, nil)
		return
	}
	m.Username = types.StringValue(cr.DatabaseUser)
	m.Password = types.StringValue(cr.DatabasePassword)
	m.Host = types.StringValue(cr.DatabaseHost)
	m.Database = types.StringValue(cr.DatabaseName)
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
