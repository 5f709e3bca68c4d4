package testhost

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyPath, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	entry := `{"name":"h1","address":"10.77.1.2","ssh_port":22,"user":"root","private_key_path":"` + keyPath +
		`","host_public_key":"ssh-ed25519 AAAA","host_key_fingerprint":"SHA256:x","http_port":80}`

	tests := []struct {
		name    string
		file    string // contents of hosts.json; "" leaves it absent
		wantErr string
	}{
		{name: "valid", file: "[" + entry + "]"},
		{name: "absent", wantErr: "test hosts are not running"},
		{name: "not json", file: "[", wantErr: "parse"},
		{name: "empty", file: "[]", wantErr: "lists no hosts"},
		{name: "incomplete", file: `[{"name":"h1"}]`, wantErr: "incomplete entry"},
		{name: "missing key", file: "[" + strings.Replace(entry, keyPath, filepath.Join(dir, "nope"), 1) + "]", wantErr: "read private key of h1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(state, "hosts.json"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			hosts, err := load(state, "/x/testhosts.sh")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("load() error = %v", err)
			}
			want := Host{
				Name: "h1", Address: "10.77.1.2", SSHPort: 22, User: "root",
				PrivateKey: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), PrivateKeyPath: keyPath,
				HostPublicKey: "ssh-ed25519 AAAA", HostKeyFingerprint: "SHA256:x", HTTPPort: 80,
				script: "/x/testhosts.sh",
			}
			if !reflect.DeepEqual(hosts, []Host{want}) {
				t.Fatalf("load() = %+v, want [%+v]", hosts, want)
			}
			if got := hosts[0].SSHAddr(); got != "10.77.1.2:22" {
				t.Fatalf("SSHAddr() = %q", got)
			}
		})
	}
}

func TestHostsSkipsWithoutIntegration(t *testing.T) {
	t.Setenv(IntegrationEnv, "")
	skipped := true
	t.Run("inner", func(t *testing.T) {
		Hosts(t)
		skipped = false
	})
	if !skipped {
		t.Fatal("Hosts did not skip without " + IntegrationEnv)
	}
}
