package site

import (
	"strings"
	"testing"

	"github.com/chomhq/chom/server/internal/problem"
)

func TestAliases(t *testing.T) {
	f := problem.Fields{}
	got := aliases(f, []string{"WWW.Example.com.", "b.example.com", "www.example.com", " a.example.com"}, "example.com")
	if len(f) != 0 || strings.Join(got, ",") != "a.example.com,b.example.com,www.example.com" {
		t.Fatalf("aliases = %v, %v; want normalised, deduplicated and sorted", got, f)
	}
	for name, in := range map[string][]string{
		"the domain itself": {"Example.COM."},
		"shell":             {"ok.example.com", "`reboot`.example.com"},
		"traversal":         {"../x.example.com"},
	} {
		f := problem.Fields{}
		aliases(f, in, "example.com")
		if len(f) != 1 {
			t.Errorf("%s: fields %v, want one", name, f)
		}
	}
}

func TestCheckGitRepository(t *testing.T) {
	tests := []struct {
		url, problem string
	}{
		{url: "https://github.com/acme/shop.git"},
		{url: "http://git.internal.example/shop.git"},
		{url: "ssh://git@github.com/acme/shop.git"},
		{url: "git@github.com:acme/shop.git"},
		{url: "git://127.0.0.1/app.git"},
		{url: "file:///srv/repos/app.git"},
		{url: "ext::sh -c touch% /tmp/pwned", problem: "spaces"},
		{url: "ext::sh", problem: "must be an https"},
		{url: "fd::17", problem: "must be an https"},
		{url: "--upload-pack=touch /tmp/x", problem: "hyphen"},
		{url: "-oProxyCommand=id", problem: "hyphen"},
		{url: "https://user:secret@github.com/acme/shop.git", problem: "credentials"},
		{url: "https://ghp_token@github.com/acme/shop.git", problem: "credentials"},
		{url: "https://github.com/acme/shop.git\n--config", problem: "spaces"},
		{url: "file://remote-host/srv/app.git", problem: "file:///"},
		{url: "https:///no-host.git", problem: "host"},
		{url: "/srv/repos/app.git", problem: "must be an https"},
		{url: "https://example.com/" + strings.Repeat("a", maxGitURL), problem: "longer"},
	}
	for _, tt := range tests {
		got := checkGitRepository(tt.url)
		if (tt.problem == "") != (got == "") || !strings.Contains(got, tt.problem) {
			t.Errorf("checkGitRepository(%q) = %q, want a problem containing %q", tt.url, got, tt.problem)
		}
	}
}

func TestCheckGitBranch(t *testing.T) {
	for _, ok := range []string{"main", "release/1.2", "feature_x-y", "v2.0.1"} {
		if msg := checkGitBranch(ok); msg != "" {
			t.Errorf("checkGitBranch(%q) = %q", ok, msg)
		}
	}
	for _, bad := range []string{"-b", "--orphan", "a..b", "a//b", "a/.b", ".hidden", "x.lock", "x/", "x.", "a b", "a;b", "$(id)", "ünïcode", "a\nb", "a~1", "a^", "a:b"} {
		if msg := checkGitBranch(bad); msg == "" {
			t.Errorf("checkGitBranch(%q) accepted it", bad)
		}
	}
}

func TestPickPHPVersion(t *testing.T) {
	installed := []string{"8.2", "8.10", "7.4"}
	if got, err := pickPHPVersion("", installed, "web"); err != nil || got != "8.10" {
		t.Fatalf("default = %q, %v; want the newest, 8.10", got, err)
	}
	if got, err := pickPHPVersion("7.4", installed, "web"); err != nil || got != "7.4" {
		t.Fatalf("7.4 = %q, %v", got, err)
	}
	if _, err := pickPHPVersion("8.3", installed, "web"); err == nil || !strings.Contains(err.Error(), "8.2, 8.10, 7.4") {
		t.Fatalf("8.3 = %v; want the installed versions named", err)
	}
	if _, err := pickPHPVersion("", nil, "web"); err == nil {
		t.Fatal("a VPS without PHP gave a version")
	}
}

func TestCheckEnvironment(t *testing.T) {
	f := problem.Fields{}
	checkEnvironment(f, map[string]string{"APP_NAME": "Shop", "MAIL_FROM": "it's \"me\" $HOME", "EMPTY": ""})
	if len(f) != 0 {
		t.Fatalf("valid variables refused: %v", f)
	}
	f = problem.Fields{}
	checkEnvironment(f, map[string]string{
		"DB_HOST": "evil", "1ST": "x", "A-B": "x", "NL": "a\nb", "CR": "a\rb", "BIG": strings.Repeat("x", maxEnvValueSize+1),
	})
	for _, field := range []string{"environment.DB_HOST", "environment.1ST", "environment.A-B", "environment.NL", "environment.CR", "environment.BIG"} {
		if f[field] == "" {
			t.Errorf("%s not refused: %v", field, f)
		}
	}
}
