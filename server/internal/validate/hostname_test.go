package validate

import (
	"strings"
	"testing"

	"github.com/chomhq/chom/server/internal/problem"
)

func TestHostname(t *testing.T) {
	tests := []struct {
		name, in, want, problem string
	}{
		{name: "plain", in: "example.com", want: "example.com"},
		{name: "subdomain", in: "www.shop.example.co.uk", want: "www.shop.example.co.uk"},
		{name: "upper case is lowered", in: "WWW.Example.COM", want: "www.example.com"},
		{name: "trailing dot removed", in: "example.com.", want: "example.com"},
		{name: "surrounding spaces trimmed", in: "  example.com ", want: "example.com"},
		{name: "hyphen and digits", in: "my-site2.example.com", want: "my-site2.example.com"},
		{name: "punycode", in: "xn--bcher-kva.example", want: "xn--bcher-kva.example"},
		{name: "numeric label inside", in: "1.2.3.example", want: "1.2.3.example"},
		{name: "63 character label", in: strings.Repeat("a", 63) + ".com", want: strings.Repeat("a", 63) + ".com"},

		{name: "empty", in: "", problem: "is required"},
		{name: "only a dot", in: ".", problem: "is required"},
		{name: "single label", in: "localhost", problem: "fully qualified"},
		{name: "unicode", in: "bücher.example", problem: "xn--"},
		{name: "unicode dot lookalike", in: "example\u3002com", problem: "xn--"},
		{name: "wildcard", in: "*.example.com", problem: "wildcard"},
		{name: "IPv4 address", in: "192.168.1.10", problem: "not an IP address"},
		{name: "IPv6 address", in: "[::1]", problem: "only letters"},
		{name: "two trailing dots", in: "example.com..", problem: "empty label"},
		{name: "double dot", in: "example..com", problem: "empty label"},
		{name: "leading dot", in: ".example.com", problem: "empty label"},
		{name: "leading hyphen", in: "-example.com", problem: "hyphen"},
		{name: "trailing hyphen", in: "example-.com", problem: "hyphen"},
		{name: "underscore", in: "my_site.example.com", problem: "only letters"},
		{name: "semicolon", in: "example.com;reboot", problem: "only letters"},
		{name: "command substitution", in: "$(reboot).example.com", problem: "only letters"},
		{name: "backticks", in: "`id`.example.com", problem: "only letters"},
		{name: "pipe", in: "a|b.example.com", problem: "only letters"},
		{name: "quote", in: "ex'ample.com", problem: "only letters"},
		{name: "space inside", in: "exa mple.com", problem: "only letters"},
		{name: "newline", in: "example.com\nserver_name evil", problem: "only letters"},
		{name: "nginx braces", in: "example.com{}", problem: "only letters"},
		{name: "path traversal", in: "../../etc/passwd", problem: "only letters"},
		{name: "dot dot label", in: "..example.com", problem: "empty label"},
		{name: "slash", in: "example.com/admin", problem: "only letters"},
		{name: "port", in: "example.com:8080", problem: "only letters"},
		{name: "NUL byte", in: "example.com\x00.evil", problem: "only letters"},
		{name: "label too long", in: strings.Repeat("a", 64) + ".com", problem: "longer than 63"},
		{name: "name too long", in: strings.Repeat(strings.Repeat("a", 60)+".", 5) + "com", problem: "longer than 253"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := problem.Fields{}
			got := Hostname(f, "domain", tt.in)
			if tt.problem == "" {
				if len(f) != 0 {
					t.Fatalf("Hostname(%q) reported %v", tt.in, f)
				}
				if got != tt.want {
					t.Fatalf("Hostname(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			if !strings.Contains(f["domain"], tt.problem) {
				t.Fatalf("Hostname(%q) reported %q, want a message containing %q", tt.in, f["domain"], tt.problem)
			}
		})
	}
}
