package acctest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/provider/internal/client"
)

// KeyArgument says how a chom_vps block in a test configuration gives the
// private key.
type KeyArgument struct {
	writeOnlyVersion int
}

// SensitiveKey gives the key through ssh_private_key, which every CLI
// supports and which the state keeps.
var SensitiveKey = KeyArgument{}

// WriteOnlyKey gives the key through ssh_private_key_wo at version.
func WriteOnlyKey(version int) KeyArgument { return KeyArgument{writeOnlyVersion: version} }

func (k KeyArgument) args(h Host) []string {
	if k.writeOnlyVersion > 0 {
		return []string{
			fmt.Sprintf("ssh_private_key_wo = file(%q)", h.PrivateKeyPath),
			fmt.Sprintf("ssh_private_key_wo_version = %d", k.writeOnlyVersion),
		}
	}
	return []string{fmt.Sprintf("ssh_private_key = file(%q)", h.PrivateKeyPath)}
}

// VPSResource returns a chom_vps block called name for the host, pinned to
// its known host key, with extra arguments ("capacity = 5") inside; an
// extra argument replaces a default one of the same name. The key is read
// from its file by Terraform: the configuration never holds it.
func VPSResource(name string, h Host, key KeyArgument, extra ...string) string {
	args := []string{
		fmt.Sprintf("name = %q", name),
		fmt.Sprintf("host = %q", h.Address),
		fmt.Sprintf("port = %d", h.SSHPort),
		fmt.Sprintf("ssh_user = %q", h.User),
		fmt.Sprintf("expected_host_key_fingerprint = %q", h.HostKeyFingerprint),
	}
	args = append(args, key.args(h)...)
	return Block("resource", "chom_vps", name, append(args, extra...)...)
}

// Block returns a block `kind "typ" "name" { ... }` with the arguments
// ("key = value") in order, a later argument replacing an earlier one of
// the same name.
func Block(kind, typ, name string, args ...string) string {
	var keys []string
	values := map[string]string{}
	for _, a := range args {
		k := strings.TrimSpace(strings.SplitN(a, "=", 2)[0])
		if _, seen := values[k]; !seen {
			keys = append(keys, k)
		}
		values[k] = a
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q %q {\n", kind, typ, name)
	for _, k := range keys {
		b.WriteString("  " + values[k] + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// RegisterVPS registers the host through the API, outside Terraform, and
// waits for its bootstrap. The server is removed from CHOM (with force)
// when the test ends.
func (s *Server) RegisterVPS(t *testing.T, name string, h Host) *client.VPS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	port, user, fp := h.SSHPort, h.User, h.HostKeyFingerprint
	v, op, err := s.Client.CreateVPS(ctx, client.VPSCreateOptions{
		Name: name, Host: h.Address, Port: &port, SSHUser: &user, SSHPrivateKey: h.PrivateKey(t), ExpectedHostKeyFingerprint: &fp,
	})
	if err != nil {
		t.Fatalf("register %s: %v", h.Name, err)
	}
	t.Cleanup(func() {
		if err := s.Client.DeleteVPS(context.Background(), v.ID, client.VPSDeleteOptions{Force: true}); err != nil && !client.IsNotFound(err) {
			t.Errorf("remove VPS %s: %v", v.ID, err)
		}
	})
	if _, err := s.Client.WaitForOperation(ctx, op.ID); err != nil {
		t.Fatalf("bootstrap %s: %v", h.Name, err)
	}
	if v, err = s.Client.VPS(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	return v
}

// CreateSite creates a site through the API, outside Terraform, and waits
// until it is provisioned. It is deleted when the test ends, unless
// something else deleted it before.
func (s *Server) CreateSite(t *testing.T, opts client.SiteCreateOptions) *client.Site {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	site, op, err := s.Client.CreateSite(ctx, opts)
	if err != nil {
		t.Fatalf("create site %s: %v", opts.Domain, err)
	}
	t.Cleanup(func() { s.DeleteSite(t, site.ID) })
	if _, err := s.Client.WaitForOperation(ctx, op.ID); err != nil {
		t.Fatalf("provision site %s: %v", opts.Domain, err)
	}
	if site, err = s.Client.Site(ctx, site.ID); err != nil {
		t.Fatal(err)
	}
	return site
}

// DeleteSite deletes a site through the API and waits until it is gone;
// a site already gone is no error.
func (s *Server) DeleteSite(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	op, err := s.Client.DeleteSite(ctx, id)
	if client.IsNotFound(err) {
		return
	}
	if err == nil {
		_, err = s.Client.WaitForOperation(ctx, op.ID)
	}
	if err != nil {
		t.Errorf("delete site %s: %v", id, err)
	}
}
