package site

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ datasource.DataSource                     = (*siteDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*siteDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*siteDataSource)(nil)
)

// NewDataSource returns the chom_site data source.
func NewDataSource() datasource.DataSource { return &siteDataSource{} }

type siteDataSource struct {
	client *client.Client
}

func (d *siteDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_site"
}

// siteAttributes describes a site's attributes as the data sources show
// them; lookup makes id and domain optional arguments.
func siteAttributes(lookup bool) map[string]schema.Attribute {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: description, Computed: true}
	}
	attrs := map[string]schema.Attribute{
		"id":     computed("Identifier of the site."),
		"domain": computed("Host name of the site, lower-case without a trailing dot."),
		"aliases": schema.SetAttribute{
			MarkdownDescription: "Further host names the site answers to.",
			Computed:            true,
			ElementType:         types.StringType,
		},
		"type":                   computed("`html`, `wordpress` or `laravel`."),
		"vps_id":                 computed("Identifier of the server the site is on."),
		"php_version":            computed("PHP version of a WordPress or Laravel site; null for html sites."),
		"https":                  schema.BoolAttribute{MarkdownDescription: "Whether the site serves HTTPS.", Computed: true},
		"git_repository":         computed("Repository a Laravel site is deployed from."),
		"git_branch":             computed("Branch a Laravel site is deployed from; null for the repository's default branch."),
		"status":                 computed("`provisioning`, `active`, `suspended`, `failed` or `deleting`."),
		"document_root":          computed("Directory nginx serves the site from, on its server."),
		"system_user":            computed("Linux user the site's files and PHP run as, on its server."),
		"database_name":          computed("Name of the site's MariaDB database; null for html sites."),
		"database_user":          computed("MariaDB user of the site's database; null for html sites."),
		"certificate_status":     computed("State of the site's TLS certificate: `none`, `pending`, `active`, `expired` or `failed`."),
		"certificate_expires_at": computed("When the site's TLS certificate expires (RFC 3339); null without one."),
	}
	if lookup {
		attrs["id"] = schema.StringAttribute{
			MarkdownDescription: "Identifier of the site. Exactly one of `id` and `domain` is required.",
			Optional:            true,
			Computed:            true,
		}
		attrs["domain"] = schema.StringAttribute{
			MarkdownDescription: "Domain of the site, compared lower-case without a trailing dot (an alias does not match). Exactly one of `id` and `domain` is required.",
			Optional:            true,
			Computed:            true,
			Validators:          []validator.String{hostnameValidator{}},
		}
	}
	return attrs
}

func (d *siteDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A site of the organization, found by `id` or by `domain`: for example one created outside this configuration.",
		Attributes:          siteAttributes(true),
	}
}

func (d *siteDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("domain")),
	}
}

func (d *siteDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

func (d *siteDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m siteObject
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var s *client.Site
	var err error
	configuredDomain := m.Domain
	if !m.ID.IsNull() {
		s, err = d.client.Site(ctx, m.ID.ValueString())
	} else {
		s, err = d.client.FindSiteByDomain(ctx, m.Domain.ValueString())
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not find site", err, nil)
		return
	}
	resp.Diagnostics.Append(m.FromAPI(ctx, s)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// An argument keeps its configured spelling.
	if !configuredDomain.IsNull() {
		m.Domain = configuredDomain
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
