package provision_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/testhost"
)

// TestIntegrationBootstrapScripts runs the bootstrap steps, facts and
// health scripts on every real test host: the first run leaves each host
// bootstrapped, a second run finds nothing to change.
func TestIntegrationBootstrapScripts(t *testing.T) {
	hosts := testhost.Hosts(t)
	exec := sshx.New(sshx.Options{})
	t.Cleanup(func() { _ = exec.Close() })
	for _, th := range hosts {
		t.Run(th.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			h := &provision.Host{Runner: exec, Target: sshx.Target{
				Host: th.Address, Port: th.SSHPort, User: th.User, PrivateKey: th.PrivateKey, HostKey: th.HostPublicKey,
			}}
			for _, s := range provision.Bootstrap() {
				if _, err := s.Ensure(ctx, h); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range provision.Bootstrap() {
				changed, err := s.Ensure(ctx, h)
				if err != nil {
					t.Fatal(err)
				}
				if changed {
					t.Errorf("%s changed the host on the second run", s.Name)
				}
			}

			facts, err := provision.GatherFacts(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(facts.OS, "Debian") || facts.CPUCount <= 0 || facts.MemoryBytes <= 0 ||
				facts.DiskBytes <= 0 || !slices.Contains(facts.PHPVersions, "8.2") || facts.Supported() != nil {
				t.Errorf("facts %+v", facts)
			}
			health, err := provision.CheckHealth(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if !health.NginxRunning || !health.PHPFPMRunning || health.MemoryTotalBytes <= 0 ||
				health.DiskTotalBytes <= 0 || health.DiskUsedBytes <= 0 {
				t.Errorf("health %+v", health)
			}

			// Unknown host names get the default server's 404.
			status, _, err := th.HTTPGet(t, "unknown.invalid", "/")
			if err != nil || status != 404 {
				t.Errorf("unknown host: status %d, %v", status, err)
			}
		})
	}
}
