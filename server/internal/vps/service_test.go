package vps

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
)

func TestPlanUpdate(t *testing.T) {
	box, err := secrets.New(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Deps{Box: box})
	now := time.Now()
	cur := &store.VPS{
		ID: "v1", Name: "web-1", Host: "10.77.1.2", Port: 22, SSHUser: "root", Capacity: 10, SitesAllocated: 4,
		Labels: map[string]string{"env": "prod"}, HostKeyFingerprint: "SHA256:CbLw/iUI6lzns0j6mQ6nYL1Vly3QcAZUjyrQGrFZ5ec",
		BootstrappedAt: &now,
	}
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	otherFP := "SHA256:rgRuIctOQMxTjdsjWFYHb8yGx9At6nYpopkWkjsksT4"
	key := testKey(t, "")

	tests := []struct {
		name        string
		in          UpdateInput
		wantChanges []string
		reconnect   bool
		wantField   string
	}{
		{name: "nothing", in: UpdateInput{}},
		{name: "same values", in: UpdateInput{Name: str("web-1"), Host: str("10.77.1.2"), Port: num(22), Labels: map[string]string{"env": "prod"}}},
		{name: "name labels capacity", in: UpdateInput{Name: str("web-2"), Labels: map[string]string{}, Capacity: num(4)},
			wantChanges: []string{"name", "labels", "capacity"}},
		{name: "port", in: UpdateInput{Port: num(2222)}, wantChanges: []string{"port"}, reconnect: true},
		{name: "user", in: UpdateInput{SSHUser: str("deploy")}, wantChanges: []string{"ssh_user"}, reconnect: true},
		{name: "key", in: UpdateInput{SSHPrivateKey: &key}, wantChanges: []string{"ssh_key_replaced"}, reconnect: true},
		{name: "new fingerprint", in: UpdateInput{ExpectedHostKeyFingerprint: &otherFP}, wantChanges: []string{"expected_host_key_fingerprint"}, reconnect: true},
		{name: "fingerprint of the pin", in: UpdateInput{ExpectedHostKeyFingerprint: str(cur.HostKeyFingerprint)}, wantChanges: []string{"expected_host_key_fingerprint"}},
		{name: "host", in: UpdateInput{Host: str("10.77.2.2")}, wantField: "host"},
		{name: "capacity below allocation", in: UpdateInput{Capacity: num(3)}, wantField: "capacity"},
		{name: "bad key", in: UpdateInput{SSHPrivateKey: str("nope")}, wantField: "ssh_private_key"},
		{name: "bad port", in: UpdateInput{Port: num(0)}, wantField: "port"},
		{name: "bad name", in: UpdateInput{Name: str("")}, wantField: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, changes, reconnect, err := s.plan(cur, tt.in)
			if tt.wantField != "" {
				p, ok := problem.As(err)
				if !ok || p.Fields[tt.wantField] == "" {
					t.Fatalf("error %v, want a problem naming %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reconnect != tt.reconnect || len(changes) != len(tt.wantChanges) {
				t.Fatalf("changes %v reconnect %v, want %v %v", changes, reconnect, tt.wantChanges, tt.reconnect)
			}
			for _, c := range tt.wantChanges {
				if _, ok := changes[c]; !ok {
					t.Errorf("change %s missing from %v", c, changes)
				}
			}
			for k, v := range changes {
				if s, ok := v.(string); ok && strings.Contains(s, "PRIVATE KEY") {
					t.Errorf("audit change %s carries the private key", k)
				}
			}
			if tt.in.SSHPrivateKey != nil {
				plain, err := box.Open(*u.SSHKeySealed, store.VPSKeyContext(cur.ID))
				if err != nil || string(plain) != key {
					t.Fatalf("sealed key does not open to the new key: %v", err)
				}
				if _, err := box.Open(*u.SSHKeySealed, store.VPSKeyContext("another")); !errors.Is(err, secrets.ErrDecrypt) {
					t.Fatalf("sealed key opens in another row's context: %v", err)
				}
			}
		})
	}
}
