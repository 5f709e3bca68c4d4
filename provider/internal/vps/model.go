package vps

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/chomhq/chom/provider/internal/client"
)

// resourceModel is the state of a chom_vps.
type resourceModel struct {
	ID                         types.String   `tfsdk:"id"`
	Name                       types.String   `tfsdk:"name"`
	Host                       types.String   `tfsdk:"host"`
	Port                       types.Int64    `tfsdk:"port"`
	SSHUser                    types.String   `tfsdk:"ssh_user"`
	SSHPrivateKey              types.String   `tfsdk:"ssh_private_key"`
	SSHPrivateKeyWO            types.String   `tfsdk:"ssh_private_key_wo"`
	SSHPrivateKeyWOVersion     types.Int64    `tfsdk:"ssh_private_key_wo_version"`
	ExpectedHostKeyFingerprint types.String   `tfsdk:"expected_host_key_fingerprint"`
	Labels                     types.Map      `tfsdk:"labels"`
	Capacity                   types.Int64    `tfsdk:"capacity"`
	ForceDelete                types.Bool     `tfsdk:"force_delete"`
	Status                     types.String   `tfsdk:"status"`
	HostKeyFingerprint         types.String   `tfsdk:"host_key_fingerprint"`
	HostPublicKey              types.String   `tfsdk:"host_public_key"`
	OS                         types.String   `tfsdk:"os"`
	CPUCount                   types.Int64    `tfsdk:"cpu_count"`
	MemoryBytes                types.Int64    `tfsdk:"memory_bytes"`
	DiskBytes                  types.Int64    `tfsdk:"disk_bytes"`
	PHPVersions                types.List     `tfsdk:"php_versions"`
	SitesAllocated             types.Int64    `tfsdk:"sites_allocated"`
	Timeouts                   timeouts.Value `tfsdk:"timeouts"`
}

// FromAPI copies a server as the API returned it into the model. The
// private key, which the API never returns, and the attributes that only
// steer the provider keep their values. Labels stay null when the
// configuration has none and the server has none either.
func (m *resourceModel) FromAPI(ctx context.Context, v *client.VPS) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(v.ID)
	m.Name = types.StringValue(v.Name)
	m.Host = types.StringValue(v.Host)
	m.Port = types.Int64Value(int64(v.Port))
	m.SSHUser = types.StringValue(v.SSHUser)
	m.ExpectedHostKeyFingerprint = types.StringPointerValue(v.ExpectedHostKeyFingerprint)
	m.Capacity = types.Int64Value(int64(v.Capacity))
	if m.ForceDelete.IsNull() || m.ForceDelete.IsUnknown() {
		m.ForceDelete = types.BoolValue(false)
	}
	m.Labels, diags = labelsValue(ctx, v.Labels, m.Labels)
	f, d := factsFromAPI(ctx, v)
	diags.Append(d...)
	m.Status, m.HostKeyFingerprint, m.HostPublicKey, m.OS = f.status, f.hostKeyFingerprint, f.hostPublicKey, f.os
	m.CPUCount, m.MemoryBytes, m.DiskBytes, m.PHPVersions, m.SitesAllocated = f.cpuCount, f.memoryBytes, f.diskBytes, f.phpVersions, f.sitesAllocated
	return diags
}

// facts are what CHOM learnt about a server, shared by the resource and
// the data source.
type facts struct {
	status, hostKeyFingerprint, hostPublicKey, os types.String
	cpuCount, memoryBytes, diskBytes              types.Int64
	phpVersions                                   types.List
	sitesAllocated                                types.Int64
}

func factsFromAPI(ctx context.Context, v *client.VPS) (facts, diag.Diagnostics) {
	php := v.PHPVersions
	if php == nil {
		php = []string{}
	}
	phpVersions, diags := types.ListValueFrom(ctx, types.StringType, php)
	return facts{
		status:             types.StringValue(v.Status),
		hostKeyFingerprint: types.StringPointerValue(v.HostKeyFingerprint),
		hostPublicKey:      types.StringPointerValue(v.HostPublicKey),
		os:                 types.StringPointerValue(v.OS),
		cpuCount:           types.Int64PointerValue(v.CPUCount),
		memoryBytes:        types.Int64PointerValue(v.MemoryBytes),
		diskBytes:          types.Int64PointerValue(v.DiskBytes),
		phpVersions:        phpVersions,
		sitesAllocated:     types.Int64Value(int64(v.SitesAllocated)),
	}, diags
}

// labelsValue returns the server's labels as a map value; no labels are
// null when prior is null, so that leaving labels out of the
// configuration is no change.
func labelsValue(ctx context.Context, labels map[string]string, prior types.Map) (types.Map, diag.Diagnostics) {
	if len(labels) == 0 && prior.IsNull() {
		return types.MapNull(types.StringType), nil
	}
	if labels == nil {
		labels = map[string]string{}
	}
	return types.MapValueFrom(ctx, types.StringType, labels)
}

// dataSourceModel is the state of the chom_vps data source.
type dataSourceModel struct {
	ID                         types.String `tfsdk:"id"`
	Name                       types.String `tfsdk:"name"`
	Host                       types.String `tfsdk:"host"`
	Port                       types.Int64  `tfsdk:"port"`
	SSHUser                    types.String `tfsdk:"ssh_user"`
	ExpectedHostKeyFingerprint types.String `tfsdk:"expected_host_key_fingerprint"`
	Labels                     types.Map    `tfsdk:"labels"`
	Capacity                   types.Int64  `tfsdk:"capacity"`
	Status                     types.String `tfsdk:"status"`
	HostKeyFingerprint         types.String `tfsdk:"host_key_fingerprint"`
	HostPublicKey              types.String `tfsdk:"host_public_key"`
	OS                         types.String `tfsdk:"os"`
	CPUCount                   types.Int64  `tfsdk:"cpu_count"`
	MemoryBytes                types.Int64  `tfsdk:"memory_bytes"`
	DiskBytes                  types.Int64  `tfsdk:"disk_bytes"`
	PHPVersions                types.List   `tfsdk:"php_versions"`
	SitesAllocated             types.Int64  `tfsdk:"sites_allocated"`
}

// FromAPI copies a server as the API returned it into the model.
func (m *dataSourceModel) FromAPI(ctx context.Context, v *client.VPS) diag.Diagnostics {
	m.ID = types.StringValue(v.ID)
	m.Name = types.StringValue(v.Name)
	m.Host = types.StringValue(v.Host)
	m.Port = types.Int64Value(int64(v.Port))
	m.SSHUser = types.StringValue(v.SSHUser)
	m.ExpectedHostKeyFingerprint = types.StringPointerValue(v.ExpectedHostKeyFingerprint)
	m.Capacity = types.Int64Value(int64(v.Capacity))
	labels := v.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	var diags diag.Diagnostics
	m.Labels, diags = types.MapValueFrom(ctx, types.StringType, labels)
	f, d := factsFromAPI(ctx, v)
	diags.Append(d...)
	m.Status, m.HostKeyFingerprint, m.HostPublicKey, m.OS = f.status, f.hostKeyFingerprint, f.hostPublicKey, f.os
	m.CPUCount, m.MemoryBytes, m.DiskBytes, m.PHPVersions, m.SitesAllocated = f.cpuCount, f.memoryBytes, f.diskBytes, f.phpVersions, f.sitesAllocated
	return diags
}
