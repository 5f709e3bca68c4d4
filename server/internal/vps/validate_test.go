package vps

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/chomhq/chom/server/internal/problem"
)

func testKey(t *testing.T, passphrase string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

func TestCheckHostSyntax(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"10.77.1.2", true},
		{"2001:4860:4860::8888", true},
		{"vps-1.example.com", true},
		{"vps-1.example.com.", true},
		{"localhost", true},
		{"", false},
		{"   ", false},
		{"fe80::1%eth0", false},
		{"exa mple.com", false},
		{"-bad.example.com", false},
		{"bad-.example.com", false},
		{"a..b", false},
		{"256.1.1.1", false},
		{"1.2.3", false},
		{"host;rm -rf /", false},
		{"$(reboot)", false},
		{strings.Repeat("a", 64) + ".com", false},
		{strings.Repeat("abcdefghi.", 26) + "com", false},
	}
	for _, tt := range tests {
		f := problem.Fields{}
		checkHostSyntax(f, tt.host)
		if _, bad := f["host"]; bad == tt.ok {
			t.Errorf("%q: fields %v, want ok=%v", tt.host, f, tt.ok)
		}
	}
}

func TestCheckPrivateKey(t *testing.T) {
	good := testKey(t, "")
	encrypted := testKey(t, "hunter2")
	tests := []struct {
		key  string
		want string
	}{
		{good, ""},
		{"", "is required"},
		{"not a key", "must be an unencrypted private key"},
		{encrypted, "passphrase"},
		{strings.Repeat("x", maxPrivateKey+1), "too long"},
	}
	for _, tt := range tests {
		f := problem.Fields{}
		checkPrivateKey(f, tt.key)
		got := f["ssh_private_key"]
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("key %.20q: %q, want %q", tt.key, got, tt.want)
		}
		if strings.Contains(got, "BEGIN") || strings.Contains(got, "not a key") {
			t.Errorf("message echoes the key: %q", got)
		}
	}
}

func TestCheckLabelsAndFingerprint(t *testing.T) {
	tooMany := map[string]string{}
	for i := range maxLabels + 1 {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		labels map[string]string
		field  string // "" when valid
	}{
		{map[string]string{"env": "prod", "team.web-1": "", "A_b": "x"}, ""},
		{map[string]string{"bad key": "x"}, "labels"},
		{map[string]string{"-x": "x"}, "labels"},
		{map[string]string{"": "x"}, "labels"},
		{map[string]string{strings.Repeat("k", 64): "x"}, "labels"},
		{map[string]string{"env": strings.Repeat("v", 256)}, "labels.env"},
		{map[string]string{"env": "a\nb"}, "labels.env"},
		{map[string]string{"env": "\xff"}, "labels.env"},
		{tooMany, "labels"},
	}
	for _, tt := range tests {
		f := problem.Fields{}
		checkLabels(f, tt.labels)
		if tt.field == "" && len(f) > 0 || tt.field != "" && f[tt.field] == "" {
			t.Errorf("%v: fields %v, want %q", tt.labels, f, tt.field)
		}
	}
	for _, tt := range []struct {
		fp string
		ok bool
	}{
		{"SHA256:CbLw/iUI6lzns0j6mQ6nYL1Vly3QcAZUjyrQGrFZ5ec", true},
		{"", true},
		{"SHA256:CbLw/iUI6lzns0j6mQ6nYL1Vly3QcAZUjyrQGrFZ5e", false},
		{"MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", false},
		{"CbLw/iUI6lzns0j6mQ6nYL1Vly3QcAZUjyrQGrFZ5ec", false},
	} {
		fp, ok := tt.fp, tt.ok
		f := problem.Fields{}
		checkFingerprint(f, fp)
		if (len(f) == 0) != ok {
			t.Errorf("fingerprint %q: fields %v, want ok=%v", fp, f, ok)
		}
	}
}
