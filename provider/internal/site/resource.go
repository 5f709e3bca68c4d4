// Package site is the chom_site resource, the chom_site and chom_sites data
// sources and the chom_site_database_credentials ephemeral resource: web
// sites served by the organization's servers.
package site

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/chomhq/chom/provider/internal/apidiag"
	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/providerdata"
)

var (
	_ resource.Resource                     = (*siteResource)(nil)
	_ resource.ResourceWithConfigure        = (*siteResource)(nil)
	_ resource.ResourceWithImportState      = (*siteResource)(nil)
	_ resource.ResourceWithConfigValidators = (*siteResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*siteResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*siteResource)(nil)
)

// Default timeouts: provisioning may install WordPress or run composer.
const (
	defaultCreateTimeout = 20 * time.Minute
	defaultUpdateTimeout = 20 * time.Minute
	defaultReadTimeout   = 5 * time.Minute
	defaultDeleteTimeout = 10 * time.Minute
)

// codeBusy is the API's answer while another operation works on the site.
const codeBusy = "operation_in_progress"

// fields maps the API's validation error fields to attributes; the
// environment is reported on whichever attribute the configuration uses.
func fields(environmentAttribute string) apidiag.Fields {
	return apidiag.Fields{
		"domain":         path.Root("domain"),
		"aliases":        path.Root("aliases"),
		"type":           path.Root("type"),
		"vps_id":         path.Root("vps_id"),
		"php_version":    path.Root("php_version"),
		"git_repository": path.Root("git_repository"),
		"git_branch":     path.Root("git_branch"),
		"environment":    path.Root(environmentAttribute),
		"https":          path.Root("https"),
	}
}

// NewResource returns the chom_site resource.
func NewResource() resource.Resource { return &siteResource{} }

type siteResource struct {
	client *client.Client
}

func (r *siteResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_site"
}

func (r *siteResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A web site served by one of the organization's servers (`chom_vps`). Creating it provisions the site on its server " +
			"and waits until it is served: a system user and directories, nginx, and for WordPress and Laravel a PHP-FPM pool and a MariaDB database, " +
			"WordPress itself, or the Laravel application cloned from git with its `.env`, `composer install` and migrations. " +
			"Changes are applied in place by CHOM, which re-renders and reloads what they touch; the domain, the type and the server cannot change.\n\n" +
			"Without `vps_id` CHOM places the site on the active server with most room. When the servers are managed in the same configuration, " +
			"add `depends_on` on them so that they are active before the site is placed and removed only after it.\n\n" +
			"Laravel variables go through the write-only `environment_wo` (Terraform and OpenTofu 1.11 and later), never stored in the plan or the state; " +
			"raise `environment_wo_version` to send new values. Older CLIs can use `environment`, which the state keeps (marked sensitive).\n\n" +
			"Import a site by its id or by its domain: `terraform import chom_site.shop shop.example.com`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the site.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"domain": schema.StringAttribute{
				MarkdownDescription: "Fully qualified host name the site answers to, unique across the platform. " +
					"Compared the way CHOM stores it (lower-case, without a trailing dot), so `Example.COM.` and `example.com` are the same site. " +
					"Changing it to another name replaces the site.",
				Required:   true,
				CustomType: HostnameType{},
				Validators: []validator.String{hostnameValidator{}},
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIf(
						func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
							resp.RequiresReplace = !sameHostname(req.StateValue.ValueString(), req.PlanValue.ValueString())
						},
						"Changing the domain to another name (not just its spelling) replaces the site.",
						"Changing the domain to another name (not just its spelling) replaces the site.",
					),
				},
			},
			"aliases": schema.SetAttribute{
				MarkdownDescription: "Further host names the site answers to, each following the rules of `domain` and compared like it; " +
					"at most 100, none equal to the domain or to each other. Changed in place.",
				Optional:    true,
				ElementType: HostnameType{},
				Validators: []validator.Set{
					setvalidator.SizeAtMost(maxAliases),
					setvalidator.ValueStringsAre(hostnameValidator{}),
				},
			},
			"type": schema.StringAttribute{
				MarkdownDescription: "What the site runs: `html` (static files), `wordpress` or `laravel`. Changing it replaces the site.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(client.SiteTypes...)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"vps_id": schema.StringAttribute{
				MarkdownDescription: "Identifier of the server (`chom_vps`) to place the site on. When left out, CHOM places it on the active server with most room. " +
					"Changing it to another server replaces the site.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplace(),
				},
			},
			"php_version": schema.StringAttribute{
				MarkdownDescription: "PHP version of a WordPress or Laravel site, such as `8.2`, installed on its server. Defaults to the server's newest. " +
					"html sites run no PHP and must leave it out. Changed in place.",
				Optional: true,
				Computed: true,
				Validators: []validator.String{stringvalidator.RegexMatches(phpVersionPattern,
					"must be a PHP version such as 8.2")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"https": schema.BoolAttribute{
				MarkdownDescription: "Whether the site serves HTTPS, with a certificate CHOM obtains through ACME, and redirects HTTP to it. Defaults to `false`. Changed in place.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"git_repository": schema.StringAttribute{
				MarkdownDescription: "Laravel only, and required there: the repository to deploy, as an https, http, ssh, git or file URL, or `user@host:path`. " +
					"Credentials in the URL are refused. Changing it deploys the application again, in place.",
				Optional:   true,
				Validators: []validator.String{gitRepositoryValidator},
			},
			"git_branch": schema.StringAttribute{
				MarkdownDescription: "Laravel only: the branch to deploy. Defaults to the repository's default branch. Changing it deploys again, in place.",
				Optional:            true,
				Validators:          []validator.String{gitBranchValidator},
			},
			"environment_wo": schema.MapAttribute{
				MarkdownDescription: "Laravel only: variables written to the application's `.env`, as a write-only argument: sent to CHOM, stored there encrypted, " +
					"and never stored in the plan or the state, so they can come from ephemeral values. Requires Terraform or OpenTofu 1.11 or later. " +
					"Set `environment_wo_version` with it and raise the version to send new values, which replace every variable. " +
					"Names are letters, digits and underscores; values hold no line breaks; `DB_*` connection variables are set by CHOM and refused here.",
				Optional:    true,
				WriteOnly:   true,
				Sensitive:   true,
				ElementType: types.StringType,
			},
			"environment_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `environment_wo`. Terraform cannot see a change of a write-only value, so CHOM receives the variables when the site is created " +
					"and again, in place, each time this number changes.",
				Optional: true,
			},
			"environment": schema.MapAttribute{
				MarkdownDescription: "Laravel only: variables written to the application's `.env`, for Terraform and OpenTofu older than 1.11. " +
					"They are stored in the state, marked sensitive; prefer `environment_wo` where the CLI supports it. Changed in place; the rules of `environment_wo` apply.",
				Optional:    true,
				Sensitive:   true,
				ElementType: types.StringType,
				Validators: []validator.Map{
					mapvalidator.PreferWriteOnlyAttribute(path.MatchRoot("environment_wo")),
					mapvalidator.ConflictsWith(path.MatchRoot("environment_wo")),
				},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`active` when served, `suspended` when it serves a maintenance page, `provisioning` or `deleting` while an operation works on it, " +
					"`failed` when the last operation failed (apply again to retry).",
				Computed: true,
			},
			"document_root": schema.StringAttribute{
				MarkdownDescription: "Directory nginx serves the site from, on its server.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"system_user": schema.StringAttribute{
				MarkdownDescription: "Linux user the site's files and PHP run as, on its server; derived from the id.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"database_name": schema.StringAttribute{
				MarkdownDescription: "Name of the site's MariaDB database; null for html sites. Its password is available through the `chom_site_database_credentials` ephemeral resource.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"database_user": schema.StringAttribute{
				MarkdownDescription: "MariaDB user of the site's database; null for html sites.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"certificate_expires_at": schema.StringAttribute{
				MarkdownDescription: "When the site's TLS certificate expires (RFC 3339); null without one. CHOM renews certificates it obtained 30 days before they expire.",
				Computed:            true,
			},
			"timeouts": timeoutsAttribute(ctx),
		},
	}
}

func timeoutsAttribute(ctx context.Context) schema.Attribute {
	a := timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}).(schema.SingleNestedAttribute)
	a.MarkdownDescription = fmt.Sprintf("How long each operation may take, waiting for CHOM to provision the change and retries of failed API requests included. "+
		"`create` and `update` default to %d minutes, `read` to %d and `delete` to %d.",
		int(defaultCreateTimeout.Minutes()), int(defaultReadTimeout.Minutes()), int(defaultDeleteTimeout.Minutes()))
	return a
}

func (r *siteResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.RequiredTogether(path.MatchRoot("environment_wo"), path.MatchRoot("environment_wo_version")),
	}
}

// ValidateConfig holds the configuration to the rules that depend on the
// site's type and on several attributes at once, as the server does.
func (r *siteResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m resourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Type.IsUnknown() && !m.Type.IsNull() {
		siteType := m.Type.ValueString()
		refuse := func(attr string, v interface{ IsNull() bool }, why string) {
			if !v.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root(attr), "Argument not allowed for a "+siteType+" site", why)
			}
		}
		if siteType == client.SiteHTML {
			refuse("php_version", m.PHPVersion, "html sites run no PHP.")
		}
		if siteType != client.SiteLaravel {
			refuse("git_repository", m.GitRepository, "Only Laravel sites are deployed from git.")
			refuse("git_branch", m.GitBranch, "Only Laravel sites are deployed from git.")
			refuse("environment", m.Environment, "Only Laravel sites take environment variables.")
			refuse("environment_wo", m.EnvironmentWO, "Only Laravel sites take environment variables.")
		} else if m.GitRepository.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("git_repository"), "Missing git repository",
				"A Laravel site is deployed from git: set git_repository.")
		}
	}

	for _, attr := range []string{"environment", "environment_wo"} {
		env := m.Environment
		if attr == "environment_wo" {
			env = m.EnvironmentWO
		}
		if env.IsNull() || env.IsUnknown() {
			continue
		}
		vars := map[string]types.String{}
		resp.Diagnostics.Append(env.ElementsAs(ctx, &vars, false)...)
		known := map[string]string{}
		for k, v := range vars {
			if !v.IsUnknown() {
				known[k] = v.ValueString()
			}
		}
		problems := environmentProblems(known)
		for _, name := range slices.Sorted(maps.Keys(problems)) {
			p := path.Root(attr)
			if name != "" {
				p = p.AtMapKey(name)
			}
			resp.Diagnostics.AddAttributeError(p, "Invalid environment variable", problems[name]+".")
		}
	}

	if m.Aliases.IsNull() || m.Aliases.IsUnknown() {
		return
	}
	seen := map[string]string{}
	if !m.Domain.IsNull() && !m.Domain.IsUnknown() {
		seen[client.NormalizeHostname(m.Domain.ValueString())] = "the domain"
	}
	for _, e := range m.Aliases.Elements() {
		a, ok := e.(HostnameValue)
		if !ok || a.IsNull() || a.IsUnknown() {
			continue
		}
		name := client.NormalizeHostname(a.ValueString())
		if other, dup := seen[name]; dup {
			resp.Diagnostics.AddAttributeError(path.Root("aliases"), "Duplicate host name",
				fmt.Sprintf("The alias %q is the same name as %s: list each name once, and the domain not at all.", a.ValueString(), other))
			continue
		}
		seen[name] = fmt.Sprintf("the alias %q", a.ValueString())
	}
}

func (r *siteResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = providerdata.Client(req.ProviderData, &resp.Diagnostics)
}

// environmentAttribute names the attribute the configuration gives the
// variables in.
func environmentAttribute(m *resourceModel) string {
	if !m.EnvironmentWO.IsNull() {
		return "environment_wo"
	}
	return "environment"
}

func (r *siteResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// Write-only values are only in the configuration.
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	opts := client.SiteCreateOptions{
		Domain:        plan.Domain.ValueString(),
		Aliases:       hostnames(plan.Aliases),
		Type:          plan.Type.ValueString(),
		VPSID:         plan.VPSID.ValueStringPointer(),
		PHPVersion:    plan.PHPVersion.ValueStringPointer(),
		GitRepository: plan.GitRepository.ValueStringPointer(),
		GitBranch:     plan.GitBranch.ValueStringPointer(),
		HTTPS:         plan.HTTPS.ValueBoolPointer(),
	}
	env, diags := environment(ctx, &config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if env != nil {
		opts.Environment = *env
	}
	s, op, err := r.client.CreateSite(ctx, opts)
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not create site", err, fields(environmentAttribute(&config)))
		return
	}
	// The site exists from here on: the state must know it even if
	// provisioning fails or outlasts the timeout.
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), s.ID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Info(ctx, "created site; waiting for it to be provisioned", map[string]any{"site_id": s.ID, "domain": s.Domain, "vps_id": s.VPSID})
	if op != nil {
		if _, err := r.client.WaitForOperation(ctx, op.ID); err != nil {
			apidiag.Append(&resp.Diagnostics, "Site provisioning did not succeed", waitError(err, s.ID), nil)
			return
		}
	}
	r.readInto(ctx, s.ID, &plan, &resp.State, &resp.Diagnostics)
}

// readInto reads the site into m and sets m as the state.
func (r *siteResource) readInto(ctx context.Context, id string, m *resourceModel, state *tfsdk.State, diags *diag.Diagnostics) {
	s, err := r.client.Site(ctx, id)
	if err != nil {
		apidiag.Append(diags, "Could not read site", err, nil)
		return
	}
	diags.Append(m.FromAPI(ctx, s)...)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, m)...)
}

func (r *siteResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state resourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	s, err := r.client.Site(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "site no longer exists; removing it from the state", map[string]any{"site_id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not read site", err, nil)
		return
	}
	resp.Diagnostics.Append(state.FromAPI(ctx, s)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *siteResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config resourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	opts, diags := updateOptions(ctx, &plan, &state, &config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	if !opts.Empty() {
		var op *client.Operation
		err := r.client.RetryWhileBusy(ctx, func() error {
			var err error
			_, op, err = r.client.UpdateSite(ctx, id, opts)
			return err
		}, codeBusy)
		if err != nil {
			apidiag.Append(&resp.Diagnostics, "Could not update site", err, fields(environmentAttribute(&config)))
			// Nothing changed: keeping the prior state makes the next plan
			// propose the change again, a new environment version included.
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
			return
		}
		if op != nil {
			tflog.Info(ctx, "site changed; waiting for CHOM to apply it", map[string]any{"site_id": id, "operation_id": op.ID})
			if _, err := r.client.WaitForOperation(ctx, op.ID); err != nil {
				// CHOM recorded the change; the state says so, and that the
				// site failed, which the next plan proposes to retry.
				r.readInto(ctx, id, &plan, &resp.State, &resp.Diagnostics)
				apidiag.Append(&resp.Diagnostics, "Site update did not succeed", waitError(err, id), nil)
				return
			}
		}
	}
	r.readInto(ctx, id, &plan, &resp.State, &resp.Diagnostics)
}

// ModifyPlan proposes to provision a failed site again: CHOM does so on
// any update, even one that changes nothing.
func (r *siteResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var status types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("status"), &status)...)
	if resp.Diagnostics.HasError() || status.ValueString() != client.SiteFailed {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
	resp.Diagnostics.AddAttributeWarning(path.Root("status"), "Site failed",
		"The last operation on the site failed; applying provisions it again.")
}

// updateOptions sends what changed between the state and the plan. The
// write-only environment is sent when its version changes, the sensitive
// one when it changes; removing both removes every variable.
func updateOptions(ctx context.Context, plan, state, config *resourceModel) (client.SiteUpdateOptions, diag.Diagnostics) {
	var opts client.SiteUpdateOptions
	var diags diag.Diagnostics
	if a, b := normalized(plan.Aliases), normalized(state.Aliases); !slices.Equal(a, b) {
		opts.Aliases = &a
	}
	if !plan.PHPVersion.IsUnknown() && !plan.PHPVersion.IsNull() && !plan.PHPVersion.Equal(state.PHPVersion) {
		opts.PHPVersion = plan.PHPVersion.ValueStringPointer()
	}
	if !plan.HTTPS.Equal(state.HTTPS) {
		opts.HTTPS = plan.HTTPS.ValueBoolPointer()
	}
	if !plan.GitRepository.IsNull() && !plan.GitRepository.Equal(state.GitRepository) {
		opts.GitRepository = plan.GitRepository.ValueStringPointer()
	}
	if !plan.GitBranch.Equal(state.GitBranch) {
		branch := plan.GitBranch.ValueString() // "" deploys the default branch
		opts.GitBranch = &branch
	}
	woChanged := !config.EnvironmentWO.IsNull() && !plan.EnvironmentWOVersion.Equal(state.EnvironmentWOVersion)
	woDropped := plan.EnvironmentWOVersion.IsNull() && !state.EnvironmentWOVersion.IsNull()
	if woChanged || woDropped || !plan.Environment.Equal(state.Environment) {
		env, d := environment(ctx, config)
		diags.Append(d...)
		if env == nil {
			env = &map[string]string{}
		}
		opts.Environment = env
	}
	if opts.Empty() && state.Status.ValueString() == client.SiteFailed {
		// Any change provisions a failed site again; the aliases it has
		// are one that changes nothing else.
		aliases := normalized(state.Aliases)
		opts.Aliases = &aliases
	}
	return opts, diags
}

// environment returns the variables the configuration gives, in either
// attribute, or nil when it gives none.
func environment(ctx context.Context, config *resourceModel) (*map[string]string, diag.Diagnostics) {
	v := config.Environment
	if !config.EnvironmentWO.IsNull() {
		v = config.EnvironmentWO
	}
	if v.IsNull() {
		return nil, nil
	}
	env := map[string]string{}
	diags := v.ElementsAs(ctx, &env, false)
	return &env, diags
}

// hostnames returns the names in a set as configured, or nil.
func hostnames(set types.Set) []string {
	if set.IsNull() || set.IsUnknown() {
		return nil
	}
	out := make([]string, 0, len(set.Elements()))
	for _, e := range set.Elements() {
		if h, ok := e.(HostnameValue); ok {
			out = append(out, h.ValueString())
		}
	}
	return out
}

// normalized returns the names in a set the way the server stores them:
// normalised, without duplicates, sorted.
func normalized(set types.Set) []string {
	out := []string{}
	for _, n := range hostnames(set) {
		out = append(out, client.NormalizeHostname(n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r *siteResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state resourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.ID.ValueString()
	var op *client.Operation
	err := r.client.RetryWhileBusy(ctx, func() error {
		var err error
		op, err = r.client.DeleteSite(ctx, id)
		return err
	}, codeBusy)
	if client.IsNotFound(err) {
		return
	}
	if err != nil {
		apidiag.Append(&resp.Diagnostics, "Could not delete site", err, nil)
		return
	}
	if op != nil {
		if _, err := r.client.WaitForOperation(ctx, op.ID); err != nil {
			apidiag.Append(&resp.Diagnostics, "Site deletion did not succeed", waitError(err, id), nil)
		}
	}
}

// ImportState takes the site's id or, for anything that is not an id, its
// domain.
func (r *siteResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := req.ID
	if uuid.Validate(id) != nil {
		if r.client == nil {
			resp.Diagnostics.AddError("Provider not configured", "The provider must be configured to look a site up by domain.")
			return
		}
		s, err := r.client.FindSiteByDomain(ctx, req.ID)
		if err != nil {
			apidiag.Append(&resp.Diagnostics, "Could not import site", err, nil)
			return
		}
		id = s.ID
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}

// waitError explains an operation that did not end in time: it goes on
// on the server, and the site is in the state to be read again.
func waitError(err error, id string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w\n\nThe operation goes on in CHOM, and site %s stays in the state. "+
			"Run terraform apply again once it is done, or raise the timeouts", err, id)
	}
	return err
}
