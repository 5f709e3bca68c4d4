package site

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/chomhq/chom/provider/internal/client"
)

func TestHostnameProblem(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for none, else a part of the message
	}{
		{"example.com", ""},
		{"Shop.Example.COM.", ""},
		{"xn--bcher-kva.example", ""},
		{"a-b.c-d.example", ""},
		{"localhost", "fully qualified"},
		{"", "empty"},
		{" example.com", "surrounding spaces"},
		{"*.example.com", "wildcard"},
		{"bücher.example", "ASCII"},
		{"under_score.example.com", "letters, digits, hyphens and dots"},
		{"a..example.com", "empty label"},
		{"-a.example.com", "starting or ending with a hyphen"},
		{strings.Repeat("a", 64) + ".example.com", "longer than 63"},
		{strings.Repeat("abcdefghi.", 26) + "com", "longer than 253"},
		{"192.168.1.1", "not an IP address"},
		{"example.com..", "empty label"},
	}
	for _, tt := range tests {
		got := hostnameProblem(tt.name)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("hostnameProblem(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHostnameSemanticEquals(t *testing.T) {
	tests := []struct {
		prior, next string
		want        bool
	}{
		{"example.com", "example.com", true},
		{"Example.COM.", "example.com", true},
		{"www.example.com", "example.com", false},
		{"example.com", "example.org", false},
	}
	for _, tt := range tests {
		got, diags := NewHostnameValue(tt.prior).StringSemanticEquals(context.Background(), NewHostnameValue(tt.next))
		if diags.HasError() {
			t.Fatal(diags)
		}
		if got != tt.want {
			t.Errorf("%q vs %q: equal = %v, want %v", tt.prior, tt.next, got, tt.want)
		}
	}
	if _, diags := NewHostnameValue("a.b").StringSemanticEquals(context.Background(), basetypes.NewStringValue("a.b")); !diags.HasError() {
		t.Error("comparing with a plain string: want an error diagnostic")
	}
	tf, err := NewHostnameValue("A.b").ToTerraformValue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	back, err := HostnameType{}.ValueFromTerraform(context.Background(), tf)
	if err != nil || !back.Equal(NewHostnameValue("A.b")) {
		t.Errorf("round trip = %v, %v", back, err)
	}
}

func TestGitProblems(t *testing.T) {
	tests := []struct {
		problem func(string) string
		value   string
		want    string
	}{
		{gitRepositoryProblem, "https://github.com/acme/shop.git", ""},
		{gitRepositoryProblem, "git@github.com:acme/shop.git", ""},
		{gitRepositoryProblem, "ssh://git@example.com/shop.git", ""},
		{gitRepositoryProblem, "file:///srv/repos/shop.git", ""},
		{gitRepositoryProblem, "git://127.0.0.1:9418/app.git", ""},
		{gitRepositoryProblem, "https://user:token@github.com/acme/shop.git", "credentials"},
		{gitRepositoryProblem, "https://user@github.com/acme/shop.git", "credentials"},
		{gitRepositoryProblem, "ext::sh -c touch% /tmp/pwned", "spaces"},
		{gitRepositoryProblem, "ext::sh", "https, http, ssh, git or file URL"},
		{gitRepositoryProblem, "-uhttps://x", "hyphen"},
		{gitRepositoryProblem, "file://host/x", "file:///absolute/path"},
		{gitRepositoryProblem, "https:///x", "name a host"},
		{gitBranchProblem, "main", ""},
		{gitBranchProblem, "release/2.1", ""},
		{gitBranchProblem, "", "must not be empty"},
		{gitBranchProblem, "-f", "not a valid git branch name"},
		{gitBranchProblem, "a..b", "not a valid git branch name"},
		{gitBranchProblem, "x.lock", "not a valid git branch name"},
		{gitBranchProblem, "a b", "only letters"},
	}
	for _, tt := range tests {
		got := tt.problem(tt.value)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("problem(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestEnvironmentProblems(t *testing.T) {
	got := environmentProblems(map[string]string{
		"APP_NAME": "Shop", "APP_KEY": "tab\tallowed", "1ST": "x", "DB_PASSWORD": "x", "BAD_VALUE": "a\nb", "HUGE": strings.Repeat("x", maxEnvValueSize+1),
	})
	want := map[string]string{"1ST": "letters, digits and underscores", "DB_PASSWORD": "CHOM sets", "BAD_VALUE": "line break", "HUGE": "longer than"}
	if len(got) != len(want) {
		t.Fatalf("problems = %v, want problems with %v", got, want)
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("problem of %s = %q, want %q", k, got[k], w)
		}
	}
	many := map[string]string{}
	for i := 0; i <= maxEnvVars; i++ {
		many[strings.Repeat("V", i+1)] = ""
	}
	if got := environmentProblems(many); !strings.Contains(got[""], "at most") {
		t.Errorf("problems of %d variables = %v", len(many), got)
	}
}

func hostnameSetOf(t *testing.T, names ...string) types.Set {
	t.Helper()
	if names == nil {
		return types.SetNull(HostnameType{})
	}
	elems := make([]attr.Value, len(names))
	for i, n := range names {
		elems[i] = NewHostnameValue(n)
	}
	s, diags := types.SetValue(HostnameType{}, elems)
	if diags.HasError() {
		t.Fatal(diags)
	}
	return s
}

func envMap(t *testing.T, kv ...string) types.Map {
	t.Helper()
	if kv == nil {
		return types.MapNull(types.StringType)
	}
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	v, diags := types.MapValueFrom(context.Background(), types.StringType, m)
	if diags.HasError() {
		t.Fatal(diags)
	}
	return v
}

// laravel returns a model of a Laravel site; change edits a copy.
func laravel(t *testing.T, change func(m *resourceModel)) resourceModel {
	m := resourceModel{
		ID: types.StringValue("site_1"), Domain: NewHostnameValue("example.com"), Aliases: hostnameSetOf(t, "www.example.com"),
		Type: types.StringValue("laravel"), VPSID: types.StringValue("vps_1"), PHPVersion: types.StringValue("8.2"),
		HTTPS: types.BoolValue(false), GitRepository: types.StringValue("https://example.com/app.git"), GitBranch: types.StringValue("main"),
		Environment: envMap(t), EnvironmentWO: envMap(t), EnvironmentWOVersion: types.Int64Value(1),
	}
	if change != nil {
		change(&m)
	}
	return m
}

func TestUpdateOptions(t *testing.T) {
	tests := []struct {
		name        string
		plan, state resourceModel
		configWO    types.Map
		want        string
	}{
		{
			name:  "only the spelling of an alias changes: nothing to send",
			plan:  laravel(t, func(m *resourceModel) { m.Aliases = hostnameSetOf(t, "WWW.Example.com.") }),
			state: laravel(t, nil),
			want:  `{}`,
		},
		{
			name:  "aliases are sent as CHOM stores them",
			plan:  laravel(t, func(m *resourceModel) { m.Aliases = hostnameSetOf(t, "Shop.example.com", "www.example.com") }),
			state: laravel(t, nil),
			want:  `{"aliases":["shop.example.com","www.example.com"]}`,
		},
		{
			name:  "aliases removed",
			plan:  laravel(t, func(m *resourceModel) { m.Aliases = hostnameSetOf(t) }),
			state: laravel(t, nil),
			want:  `{"aliases":[]}`,
		},
		{
			name:  "a branch removed deploys the default branch",
			plan:  laravel(t, func(m *resourceModel) { m.GitBranch = types.StringNull(); m.HTTPS = types.BoolValue(true) }),
			state: laravel(t, nil),
			want:  `{"git_branch":"","https":true}`,
		},
		{
			name:     "a new write-only version sends the configured variables",
			plan:     laravel(t, func(m *resourceModel) { m.EnvironmentWOVersion = types.Int64Value(2) }),
			state:    laravel(t, nil),
			configWO: envMap(t, "APP_NAME", "Shop"),
			want:     `{"environment":{"APP_NAME":"Shop"}}`,
		},
		{
			name:     "the same version sends nothing",
			plan:     laravel(t, nil),
			state:    laravel(t, nil),
			configWO: envMap(t, "APP_NAME", "Other"),
			want:     `{}`,
		},
		{
			name: "switching to the sensitive variables",
			plan: laravel(t, func(m *resourceModel) {
				m.EnvironmentWOVersion = types.Int64Null()
				m.Environment = envMap(t, "APP_ENV", "production")
			}),
			state: laravel(t, nil),
			want:  `{"environment":{"APP_ENV":"production"}}`,
		},
		{
			name:  "every variable removed",
			plan:  laravel(t, func(m *resourceModel) { m.EnvironmentWOVersion = types.Int64Null() }),
			state: laravel(t, nil),
			want:  `{"environment":{}}`,
		},
		{
			name:  "a failed site with nothing to change is provisioned again",
			plan:  laravel(t, nil),
			state: laravel(t, func(m *resourceModel) { m.Status = types.StringValue(client.SiteFailed) }),
			want:  `{"aliases":["www.example.com"]}`,
		},
		{
			name:  "a PHP version left to CHOM is not sent",
			plan:  laravel(t, func(m *resourceModel) { m.PHPVersion = types.StringUnknown() }),
			state: laravel(t, nil),
			want:  `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := tt.plan
			// The write-only variables are in the configuration with their
			// version, as the configuration validators demand.
			config.EnvironmentWO = envMap(t)
			if !tt.plan.EnvironmentWOVersion.IsNull() {
				config.EnvironmentWO = envMap(t, "APP_NAME", "unchanged")
			}
			if !tt.configWO.IsNull() {
				config.EnvironmentWO = tt.configWO
			}
			opts, diags := updateOptions(context.Background(), &tt.plan, &tt.state, &config)
			if diags.HasError() {
				t.Fatal(diags)
			}
			b, _ := json.Marshal(opts)
			if string(b) != tt.want {
				t.Errorf("PATCH body = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestFromAPIAliases(t *testing.T) {
	ctx := context.Background()
	site := &client.Site{ID: "site_1", Domain: "example.com", Type: "html", VPSID: "vps_1", Aliases: []string{}}
	m := laravel(t, func(m *resourceModel) { m.Aliases = hostnameSetOf(t) })
	m.FromAPI(ctx, site)
	if !m.Aliases.IsNull() {
		t.Errorf("aliases left out of the configuration = %v, want null", m.Aliases)
	}
	m = laravel(t, func(m *resourceModel) { m.Aliases = hostnameSetOf(t, []string{}...) })
	m.FromAPI(ctx, site)
	if m.Aliases.IsNull() || len(m.Aliases.Elements()) != 0 {
		t.Errorf("aliases configured empty = %v, want an empty set", m.Aliases)
	}
	site.Aliases = []string{"www.example.com"}
	m.FromAPI(ctx, site)
	if len(m.Aliases.Elements()) != 1 || m.Environment.IsNull() != true || m.EnvironmentWOVersion.ValueInt64() != 1 {
		t.Errorf("model = aliases %v environment %v version %v", m.Aliases, m.Environment, m.EnvironmentWOVersion)
	}
}
