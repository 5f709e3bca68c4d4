package site

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/client"
)

// resourceModel is the state of a chom_site.
type resourceModel struct {
	ID                   types.String   `tfsdk:"id"`
	Domain               HostnameValue  `tfsdk:"domain"`
	Aliases              types.Set      `tfsdk:"aliases"`
	Type                 types.String   `tfsdk:"type"`
	VPSID                types.String   `tfsdk:"vps_id"`
	PHPVersion           types.String   `tfsdk:"php_version"`
	HTTPS                types.Bool     `tfsdk:"https"`
	GitRepository        types.String   `tfsdk:"git_repository"`
	GitBranch            types.String   `tfsdk:"git_branch"`
	Environment          types.Map      `tfsdk:"environment"`
	EnvironmentWO        types.Map      `tfsdk:"environment_wo"`
	EnvironmentWOVersion types.Int64    `tfsdk:"environment_wo_version"`
	Status               types.String   `tfsdk:"status"`
	DocumentRoot         types.String   `tfsdk:"document_root"`
	SystemUser           types.String   `tfsdk:"system_user"`
	DatabaseName         types.String   `tfsdk:"database_name"`
	DatabaseUser         types.String   `tfsdk:"database_user"`
	CertificateExpiresAt types.String   `tfsdk:"certificate_expires_at"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

// FromAPI copies a site as the API returned it into the model. The
// environment, which the API never returns, keeps its value; aliases stay
// null when the configuration has none and the site has none either.
func (m *resourceModel) FromAPI(ctx context.Context, s *client.Site) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(s.ID)
	m.Domain = NewHostnameValue(s.Domain)
	if len(s.Aliases) == 0 && m.Aliases.IsNull() {
		m.Aliases = types.SetNull(HostnameType{})
	} else {
		m.Aliases, diags = hostnameSet(ctx, s.Aliases)
	}
	m.Type = types.StringValue(s.Type)
	m.VPSID = types.StringValue(s.VPSID)
	m.PHPVersion = types.StringPointerValue(s.PHPVersion)
	m.HTTPS = types.BoolValue(s.HTTPS)
	m.GitRepository = types.StringPointerValue(s.GitRepository)
	m.GitBranch = types.StringPointerValue(s.GitBranch)
	m.Status = types.StringValue(s.Status)
	m.DocumentRoot = types.StringValue(s.DocumentRoot)
	m.SystemUser = types.StringValue(s.SystemUser)
	m.DatabaseName = types.StringPointerValue(s.DatabaseName)
	m.DatabaseUser = types.StringPointerValue(s.DatabaseUser)
	m.CertificateExpiresAt = timeValue(s.Certificate.NotAfter)
	return diags
}

func hostnameSet(ctx context.Context, names []string) (types.Set, diag.Diagnostics) {
	elems := make([]attr.Value, 0, len(names))
	for _, n := range names {
		elems = append(elems, NewHostnameValue(n))
	}
	return types.SetValue(HostnameType{}, elems)
}

func timeValue(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// siteObject is one site as the data sources show it.
type siteObject struct {
	ID                   types.String `tfsdk:"id"`
	Domain               types.String `tfsdk:"domain"`
	Aliases              types.Set    `tfsdk:"aliases"`
	Type                 types.String `tfsdk:"type"`
	VPSID                types.String `tfsdk:"vps_id"`
	PHPVersion           types.String `tfsdk:"php_version"`
	HTTPS                types.Bool   `tfsdk:"https"`
	GitRepository        types.String `tfsdk:"git_repository"`
	GitBranch            types.String `tfsdk:"git_branch"`
	Status               types.String `tfsdk:"status"`
	DocumentRoot         types.String `tfsdk:"document_root"`
	SystemUser           types.String `tfsdk:"system_user"`
	DatabaseName         types.String `tfsdk:"database_name"`
	DatabaseUser         types.String `tfsdk:"database_user"`
	CertificateStatus    types.String `tfsdk:"certificate_status"`
	CertificateExpiresAt types.String `tfsdk:"certificate_expires_at"`
}

// FromAPI copies a site as the API returned it into the object.
func (o *siteObject) FromAPI(ctx context.Context, s *client.Site) diag.Diagnostics {
	aliases := s.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	var diags diag.Diagnostics
	o.Aliases, diags = types.SetValueFrom(ctx, types.StringType, aliases)
	o.ID = types.StringValue(s.ID)
	o.Domain = types.StringValue(s.Domain)
	o.Type = types.StringValue(s.Type)
	o.VPSID = types.StringValue(s.VPSID)
	o.PHPVersion = types.StringPointerValue(s.PHPVersion)
	o.HTTPS = types.BoolValue(s.HTTPS)
	o.GitRepository = types.StringPointerValue(s.GitRepository)
	o.GitBranch = types.StringPointerValue(s.GitBranch)
	o.Status = types.StringValue(s.Status)
	o.DocumentRoot = types.StringValue(s.DocumentRoot)
	o.SystemUser = types.StringValue(s.SystemUser)
	o.DatabaseName = types.StringPointerValue(s.DatabaseName)
	o.DatabaseUser = types.StringPointerValue(s.DatabaseUser)
	o.CertificateStatus = types.StringValue(s.Certificate.Status)
	o.CertificateExpiresAt = timeValue(s.Certificate.NotAfter)
	return diags
}
