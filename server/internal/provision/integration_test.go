package provision_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// TestIntegrationConcurrentNginxChanges installs and removes server blocks
// from several operations at once on one host: each nginx -t must see a
// whole configuration, so none fails for another's half-done change.
func TestIntegrationConcurrentNginxChanges(t *testing.T) {
	th := testhost.Hosts(t)[0]
	exec := sshx.New(sshx.Options{})
	t.Cleanup(func() { _ = exec.Close() })
	h := &provision.Host{Runner: exec, Target: sshx.Target{
		Host: th.Address, Port: th.SSHPort, User: th.User, PrivateKey: th.PrivateKey, HostKey: th.HostPublicKey,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const workers, rounds = 8, 12
	errs := make(chan error, workers*rounds*2)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("%s/race-%d.conf", provision.NginxSitesDir, w)
			for r := range rounds {
				block := fmt.Sprintf("server {\n    listen 80;\n    server_name race-%d-%d.chom.test;\n    return 204;\n}\n", w, r)
				if _, err := h.RunScript(ctx, "nginx_install", []byte(block), path); err != nil {
					errs <- fmt.Errorf("install %s: %w", path, err)
				}
				if _, err := h.RunScript(ctx, "site_nginx_remove", nil, path); err != nil {
					errs <- fmt.Errorf("remove %s: %w", path, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if out, err := th.Exec(t, "sh", "-c", "ls "+provision.NginxSitesDir+" | grep -c '^race-' || true"); err != nil || strings.TrimSpace(out) != "0" {
		t.Errorf("leftover race configs: %q %v", out, err)
	}
}
