package vps_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"golang.org/x/crypto/ssh"

	"github.com/chomhq/chom/provider/internal/acctest"
	"github.com/chomhq/chom/provider/internal/client"
)

// TestAccVPSResource_invalid covers configurations refused at plan time,
// each on the attribute at fault, before anything is registered.
func TestAccVPSResource_invalid(t *testing.T) {
	s := acctest.New(t)
	key, locked := keyFile(t, ""), keyFile(t, "secret")
	vps := func(args ...string) string {
		return s.Config(acctest.Block("resource", "chom_vps", "bad",
			append([]string{`name = "bad"`, `host = "203.0.113.10"`, fmt.Sprintf("ssh_private_key = file(%q)", key)}, args...)...))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: vps(`port = 0`), ExpectError: acctest.Words(`port`, `between 1 and 65535`)},
			{Config: vps(`capacity = 0`), ExpectError: acctest.Words(`capacity`, `between 1 and 100000`)},
			{Config: vps(`expected_host_key_fingerprint = "aa:bb:cc"`), ExpectError: acctest.Words(`SHA256 fingerprint as ssh-keygen -l prints it`)},
			{Config: vps(`host = "http://203.0.113.10"`), ExpectError: acctest.Words(`IP address or a DNS name`)},
			{Config: vps(`ssh_user = "9lives"`), ExpectError: acctest.Words(`ssh_user`, `must be a user name`)},
			{Config: vps(`labels = { "-bad" = "x" }`), ExpectError: acctest.Words(`labels`, `must be 1 to 63 letters`)},
			{Config: vps(`name = " padded"`), ExpectError: acctest.Words(`must not start or end with spaces`)},
			{Config: vps(`ssh_private_key = "not a key"`), ExpectError: acctest.Words(`not an unencrypted private key`)},
			{Config: vps(fmt.Sprintf("ssh_private_key = file(%q)", locked)), ExpectError: acctest.Words(`protected by a passphrase`)},
			{
				Config:      s.Config(acctest.Block("resource", "chom_vps", "bad", `name = "bad"`, `host = "203.0.113.10"`)),
				ExpectError: acctest.Words(`Exactly one of these attributes must be configured`, `ssh_private_key,ssh_private_key_wo`),
			},
			{
				Config:      vps(`ssh_private_key_wo_version = 1`),
				ExpectError: acctest.Words(`Invalid Attribute Combination`, `ssh_private_key_wo`),
			},
		},
	})
}

// TestAccVPSResource_hostKeyMismatch expects another server's host key:
// the bootstrap refuses to connect, the error says why, and the server
// stays in the state (tainted) rather than being lost.
func TestAccVPSResource_hostKeyMismatch(t *testing.T) {
	hosts := acctest.Hosts(t, 2)
	s := acctest.New(t)
	const addr = "chom_vps.wrong"
	wrong := fmt.Sprintf("expected_host_key_fingerprint = %q", hosts[1].HostKeyFingerprint)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config:      s.Config(acctest.VPSResource("wrong", hosts[0], acctest.SensitiveKey, wrong)),
				ExpectError: acctest.Words(`VPS bootstrap did not succeed`, `Operation`, `vps.bootstrap`, `failed`),
			},
			{
				// The failed server is in the state, tainted: fixing the
				// fingerprint replaces it, and no server is left behind.
				Config: s.Config(acctest.VPSResource("wrong", hosts[0], acctest.SensitiveKey)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "status", client.VPSActive),
					onlyVPS(s, 1),
				),
			},
		},
	})
}

// TestAccVPSResource_createTimeout gives the bootstrap less time than it
// takes: the apply fails, but the server is in the state, so the next
// apply replaces it instead of registering a second one.
func TestAccVPSResource_createTimeout(t *testing.T) {
	hosts := acctest.Hosts(t, 1)
	s := acctest.New(t)
	const addr = "chom_vps.slow"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkDestroy(s),
		Steps: []resource.TestStep{
			{
				Config:      s.Config(acctest.VPSResource("slow", hosts[0], acctest.SensitiveKey, `timeouts = { create = "300ms" }`)),
				ExpectError: acctest.Words(`VPS bootstrap did not succeed`, `deadline exceeded`, `stays in the state`),
			},
			{
				Config: s.Config(acctest.VPSResource("slow", hosts[0], acctest.SensitiveKey)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: onlyVPS(s, 1),
			},
		},
	})
}

// keyFile writes a new private key, protected by passphrase unless it is
// empty, and returns its path.
func keyFile(t *testing.T, passphrase string) string {
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
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// onlyVPS checks through the API that the organization has want servers.
func onlyVPS(s *acctest.Server, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		list, err := s.Client.ListVPS(context.Background(), client.VPSListOptions{})
		if err != nil {
			return err
		}
		if len(list.Data) != want {
			return fmt.Errorf("the organization has %d servers, want %d", len(list.Data), want)
		}
		return nil
	}
}
