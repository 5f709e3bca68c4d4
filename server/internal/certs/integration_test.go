package certs_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/certs"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/testacme"
	"github.com/chomhq/chom/server/internal/testhost"
)

// Where the tests put things on the test host, apart from what provisioning
// manages, and removed again afterwards.
const (
	testChallengeDir = "/srv/chom-certs-test/acme-challenge"
	testTLSDir       = "/etc/chom-certs-test"
	testSiteConf     = "/etc/nginx/conf.d/chom-certs-test.conf"
	testProbePath    = "/chom-certs-test-probe"
)

// httpSite is the port-80 server block of the test domains: challenges
// come from the solver's directory, the probe tells the test that nginx
// loaded this configuration.
const httpSite = `server {
	listen 80;
	server_name %DOMAINS%;
	location ^~ /.well-known/acme-challenge/ {
		alias ` + testChallengeDir + `/;
		default_type text/plain;
	}
	location = ` + testProbePath + ` {
		return 200 "%PROBE%";
	}
	location / {
		return 404;
	}
}
`

// httpsSite adds TLS with the deployed certificate.
const httpsSite = `server {
	listen 443 ssl;
	server_name %DOMAINS%;
	ssl_certificate ` + testTLSDir + `/fullchain.pem;
	ssl_certificate_key ` + testTLSDir + `/key.pem;
	location / {
		return 200 "served over tls\n";
	}
}
`

// hostSite gives the test a site on host 1 and the means to reach it.
type hostSite struct {
	host   testhost.Host
	target sshx.Target
	exec   *sshx.Executor
}

func setupHostSite(t *testing.T, domains ...string) *hostSite {
	t.Helper()
	hosts := testhost.Hosts(t)
	h := hosts[0]
	s := &hostSite{
		host: h,
		target: sshx.Target{
			Host: h.Address, Port: h.SSHPort, User: h.User,
			PrivateKey: h.PrivateKey, HostKey: h.HostPublicKey,
		},
		exec: sshx.New(sshx.Options{}),
	}
	t.Cleanup(func() { _ = s.exec.Close() })
	t.Cleanup(func() {
		// Leave the host as it was, even after a failure half-way.
		if _, err := h.Exec(t, "rm", "-rf", "--", testSiteConf, testTLSDir, "/srv/chom-certs-test"); err != nil {
			t.Errorf("clean up host: %v", err)
		}
		if _, err := h.Exec(t, "nginx", "-s", "reload"); err != nil {
			t.Errorf("reload nginx after clean-up: %v", err)
		}
	})
	if _, err := h.Exec(t, "mkdir", "-p", "-m", "0755", testChallengeDir); err != nil {
		t.Fatal(err)
	}
	s.configure(t, httpSite, domains)
	return s
}

// configure installs conf (with %DOMAINS% filled in) as the test site,
// reloads nginx and waits until nginx serves it.
func (s *hostSite) configure(t *testing.T, conf string, domains []string) {
	t.Helper()
	probe := "probe-" + time.Now().Format("150405.000000000")
	conf = strings.NewReplacer("%DOMAINS%", strings.Join(domains, " "), "%PROBE%", probe).Replace(conf)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := s.exec.Upload(ctx, s.target, sshx.File{Path: testSiteConf, Mode: 0o644, Content: strings.NewReader(conf)})
	if err != nil {
		t.Fatalf("install site config: %v", err)
	}
	if _, err := s.host.Exec(t, "sh", "-c", `nginx -t -q && nginx -s reload`); err != nil {
		t.Fatalf("reload nginx: %v", err)
	}
	if !strings.Contains(conf, probe) {
		return
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body, err := s.host.HTTPGet(t, domains[0], testProbePath)
		if err == nil && status == 200 && body == probe {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not load the site config: %d %q %v", status, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// challengeFiles lists what is left in the challenge directory.
func (s *hostSite) challengeFiles(t *testing.T) []string {
	t.Helper()
	out, err := s.host.Exec(t, "ls", "-A", testChallengeDir)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}

// servedSolver wraps the SSH solver and checks through nginx that each
// challenge is served exactly while it is presented.
type servedSolver struct {
	t     *testing.T
	site  *hostSite
	inner certs.ChallengeSolver
	calls int
}

func (v *servedSolver) Present(ctx context.Context, domain, token, keyAuth string) error {
	v.calls++
	if err := v.inner.Present(ctx, domain, token, keyAuth); err != nil {
		return err
	}
	status, body, err := v.site.host.HTTPGet(v.t, domain, "/.well-known/acme-challenge/"+token)
	if err != nil || status != 200 || body != keyAuth {
		v.t.Errorf("presented challenge for %s is not served: %d %q %v", domain, status, body, err)
	}
	return nil
}

func (v *servedSolver) CleanUp(ctx context.Context, domain, token string) error {
	if err := v.inner.CleanUp(ctx, domain, token); err != nil {
		return err
	}
	status, _, err := v.site.host.HTTPGet(v.t, domain, "/.well-known/acme-challenge/"+token)
	if err != nil || status != 404 {
		v.t.Errorf("challenge for %s still served after clean-up: %d %v", domain, status, err)
	}
	return nil
}

func TestIntegrationObtainAndServe(t *testing.T) {
	const domain = "acme-test.chom.test"
	site := setupHostSite(t, domain)
	ca := testacme.Start(t, testacme.Options{})
	ca.AddA(t, domain, site.host.Address)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	issuer, err := certs.NewIssuer(certs.Config{
		DirectoryURL: ca.DirectoryURL,
		Email:        "ops@chom.test",
		CACertPool:   caPoolFromFile(t, ca.CACertFile),
	})
	if err != nil {
		t.Fatal(err)
	}
	solver := &servedSolver{t: t, site: site, inner: certs.SSHSolver{
		Runner: site.exec, Target: site.target, Dir: testChallengeDir,
	}}
	cert, err := issuer.Obtain(ctx, []string{domain}, solver)
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	if solver.calls != 1 {
		t.Errorf("%d challenges presented, want 1", solver.calls)
	}
	if left := site.challengeFiles(t); len(left) != 0 {
		t.Errorf("challenge files left on the host: %q", left)
	}
	if len(cert.Domains) != 1 || cert.Domains[0] != domain {
		t.Errorf("certificate covers %q, want %q", cert.Domains, domain)
	}

	// Deploy as the sites code will: full chain readable, key root-only.
	if _, err := site.exec.Run(ctx, site.target, sshx.Command{Args: []string{"mkdir", "-p", "-m", "0700", "--", testTLSDir}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []sshx.File{
		{Path: testTLSDir + "/fullchain.pem", Mode: 0o644, Content: bytes.NewReader(cert.FullChainPEM())},
		{Path: testTLSDir + "/key.pem", Mode: 0o600, Content: bytes.NewReader(cert.KeyPEM)},
	} {
		if err := site.exec.Upload(ctx, site.target, f); err != nil {
			t.Fatalf("deploy %s: %v", f.Path, err)
		}
	}
	if mode, err := site.host.Exec(t, "stat", "-c", "%a %U", testTLSDir+"/key.pem"); err != nil || strings.TrimSpace(mode) != "600 root" {
		t.Errorf("deployed key has mode and owner %q (%v), want 600 root", mode, err)
	}
	site.configure(t, httpSite+httpsSite, []string{domain})

	roots := ca.Roots(t)
	addr := net.JoinHostPort(site.host.Address, "443")
	state, err := dialTLS(addr, &tls.Config{ServerName: domain, RootCAs: roots})
	if err != nil {
		t.Fatalf("TLS handshake with %s as %s: %v", addr, domain, err)
	}
	served := state.PeerCertificates[0]
	want, err := x509.ParseCertificate(pemBlock(t, cert.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	if !served.Equal(want) {
		t.Errorf("nginx serves %s (serial %s), not the obtained certificate (serial %s)",
			served.Subject, served.SerialNumber, want.SerialNumber)
	}
	if len(state.VerifiedChains) == 0 || !roots.Equal(poolOf(state.VerifiedChains[0][len(state.VerifiedChains[0])-1])) {
		t.Errorf("the served chain does not end at Pebble's root")
	}

	// The same handshake must fail where it should, or the check above
	// would prove nothing.
	var unknown x509.UnknownAuthorityError
	if _, err := dialTLS(addr, &tls.Config{ServerName: domain, RootCAs: ca.CAPool}); !errors.As(err, &unknown) {
		t.Errorf("handshake trusting another CA: %v, want an unknown authority error", err)
	}
	var wrongName x509.HostnameError
	if _, err := dialTLS(addr, &tls.Config{ServerName: "other.chom.test", RootCAs: roots}); !errors.As(err, &wrongName) {
		t.Errorf("handshake for another name: %v, want a hostname error", err)
	}
}

func TestIntegrationFailingChallengeLeavesNothing(t *testing.T) {
	const domain = "acme-fail.chom.test"
	site := setupHostSite(t, domain)
	ca := testacme.Start(t, testacme.Options{})
	ca.AddA(t, domain, site.host.Address)
	ssh := certs.SSHSolver{Runner: site.exec, Target: site.target, Dir: testChallengeDir}

	tests := []struct {
		name    string
		solver  certs.ChallengeSolver
		wantMsg string
	}{
		{"solver writes nothing", &silentSolver{inner: ssh}, "404"},
		{"wrong key authorization", &tamperingSolver{inner: ssh}, "did not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			issuer, err := certs.NewIssuer(certs.Config{DirectoryURL: ca.DirectoryURL, CACertPool: ca.CAPool})
			if err != nil {
				t.Fatal(err)
			}
			cert, err := issuer.Obtain(ctx, []string{domain}, tt.solver)
			if err == nil {
				t.Fatalf("Obtain succeeded with %s", cert)
			}
			t.Logf("Obtain: %v", err)
			if !errors.Is(err, certs.ErrChallengeFailed) {
				t.Errorf("error does not wrap ErrChallengeFailed: %v", err)
			}
			for _, want := range []string{domain, tt.wantMsg} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q: %v", want, err)
				}
			}
			if left := site.challengeFiles(t); len(left) != 0 {
				t.Errorf("challenge files left on the host: %q", left)
			}
		})
	}
}

// silentSolver publishes nothing but cleans up as the real one would.
type silentSolver struct{ inner certs.SSHSolver }

func (s *silentSolver) Present(context.Context, string, string, string) error { return nil }

func (s *silentSolver) CleanUp(ctx context.Context, domain, token string) error {
	return s.inner.CleanUp(ctx, domain, token)
}

// tamperingSolver publishes a wrong key authorization through the real
// solver, so that a file does exist on the host until CleanUp.
type tamperingSolver struct{ inner certs.SSHSolver }

func (s *tamperingSolver) Present(ctx context.Context, domain, token, _ string) error {
	return s.inner.Present(ctx, domain, token, token+".wrong-thumbprint")
}

func (s *tamperingSolver) CleanUp(ctx context.Context, domain, token string) error {
	return s.inner.CleanUp(ctx, domain, token)
}

func dialTLS(addr string, config *tls.Config) (tls.ConnectionState, error) {
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: config}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState(), nil
}

// caPoolFromFile loads the API CA the way the server does from
// acme-ca-cert-file.
func caPoolFromFile(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	pool, err := certs.CertPoolFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func pemBlock(t *testing.T, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}
