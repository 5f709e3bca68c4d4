package certs_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/certs"
	"github.com/chomhq/chom/server/internal/testacme"
)

// webroot is a ChallengeSolver that serves key authorizations itself, on a
// loopback port Pebble validates against. It records every call.
type webroot struct {
	mu       sync.Mutex
	files    map[string]string // token -> key authorization
	presents []string          // domains, in call order
	cleanups []string
	// cleanupCtxErrs records ctx.Err() as CleanUp saw it.
	cleanupCtxErrs []error
	// present, when set, replaces the default of publishing keyAuth.
	present func(ctx context.Context, domain, token, keyAuth string) error
}

func (w *webroot) Present(ctx context.Context, domain, token, keyAuth string) error {
	w.mu.Lock()
	w.presents = append(w.presents, domain)
	custom := w.present
	w.mu.Unlock()
	if custom != nil {
		return custom(ctx, domain, token, keyAuth)
	}
	w.publish(token, keyAuth)
	return nil
}

func (w *webroot) publish(token, content string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files[token] = content
}

func (w *webroot) CleanUp(ctx context.Context, domain, token string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.files, token)
	w.cleanups = append(w.cleanups, domain)
	w.cleanupCtxErrs = append(w.cleanupCtxErrs, ctx.Err())
	return nil
}

func (w *webroot) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.URL.Path, "/.well-known/acme-challenge/")
	w.mu.Lock()
	content, found := w.files[token]
	w.mu.Unlock()
	if !ok || !found {
		http.NotFound(rw, r)
		return
	}
	_, _ = rw.Write([]byte(content))
}

// checkCleanedUp asserts that every Present was followed by a CleanUp with
// a live context and that nothing is left published.
func (w *webroot) checkCleanedUp(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.presents) == 0 {
		t.Error("no challenge was presented")
	}
	if !slices.Equal(slices.Sorted(slices.Values(w.presents)), slices.Sorted(slices.Values(w.cleanups))) {
		t.Errorf("presented %q but cleaned up %q", w.presents, w.cleanups)
	}
	for i, err := range w.cleanupCtxErrs {
		if err != nil {
			t.Errorf("CleanUp %d ran with an ended context: %v", i, err)
		}
	}
	if len(w.files) != 0 {
		t.Errorf("%d challenge files left behind", len(w.files))
	}
}

// pebbleEnv is a Pebble validating against an in-process webroot.
type pebbleEnv struct {
	acme *testacme.Server
	mux  *http.ServeMux
}

func startPebble(t *testing.T) *pebbleEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := &pebbleEnv{mux: http.NewServeMux()}
	// One handler per domain, as a web server with one site per domain.
	srv := &http.Server{Handler: env.mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	env.acme = testacme.Start(t, testacme.Options{HTTPPort: ln.Addr().(*net.TCPAddr).Port})
	return env
}

// site makes domain resolve to the in-process server and serve w.
func (e *pebbleEnv) site(t *testing.T, domain string, w *webroot) {
	t.Helper()
	e.acme.AddA(t, domain, "127.0.0.1")
	e.mux.Handle(domain+"/", w)
}

func (e *pebbleEnv) issuer(t *testing.T, accountKey []byte) *certs.Issuer {
	t.Helper()
	i, err := certs.NewIssuer(certs.Config{
		DirectoryURL:  e.acme.DirectoryURL,
		Email:         "ops@chom.test",
		CACertPool:    e.acme.CAPool,
		AccountKeyPEM: accountKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func newWebroot() *webroot { return &webroot{files: map[string]string{}} }

func TestObtainFromPebble(t *testing.T) {
	env := startPebble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w := newWebroot()
	domains := []string{"shop.chom.test", "www.shop.chom.test"}
	for _, d := range domains {
		env.site(t, d, w)
	}
	issuer := env.issuer(t, nil)
	cert, err := issuer.Obtain(ctx, domains, w)
	if err != nil {
		t.Fatalf("Obtain: %v", err)
	}
	w.checkCleanedUp(t)
	if !slices.Equal(slices.Sorted(slices.Values(cert.Domains)), domains) {
		t.Errorf("certificate covers %q, want %q", cert.Domains, domains)
	}
	if certs.NeedsRenewal(cert, time.Now()) {
		t.Errorf("a fresh certificate (%s) needs renewal", cert)
	}

	// The chain verifies against Pebble's root for each name, and the key
	// is the leaf's: ParseUserCertificate checks both as for an upload.
	leaf := verifyChain(t, cert, env.acme.Roots(t), domains)
	if _, err := certs.ParseUserCertificate(cert.FullChainPEM(), cert.KeyPEM, domains); err != nil {
		t.Errorf("the issued certificate does not pass the upload checks: %v", err)
	}
	if cert.Issuer != leaf.Issuer.CommonName || !strings.Contains(cert.Issuer, "Pebble") {
		t.Errorf("Issuer %q, want the leaf's issuer %q", cert.Issuer, leaf.Issuer.CommonName)
	}

	t.Run("existing account key", func(t *testing.T) {
		again := env.issuer(t, issuer.AccountKeyPEM())
		w2 := newWebroot()
		env.site(t, "blog.chom.test", w2)
		cert2, err := again.Obtain(ctx, []string{"blog.chom.test"}, w2)
		if err != nil {
			t.Fatalf("Obtain with the stored account key: %v", err)
		}
		w2.checkCleanedUp(t)
		if cert2.NotAfter.IsZero() || string(cert2.KeyPEM) == string(cert.KeyPEM) {
			t.Errorf("each certificate must get its own key")
		}
	})
}

// verifyChain checks cert's full chain against roots for every domain and
// returns the leaf.
func verifyChain(t *testing.T, cert *certs.Certificate, roots *x509.CertPool, domains []string) *x509.Certificate {
	t.Helper()
	var chain []*x509.Certificate
	for rest := cert.FullChainPEM(); ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) < 2 {
		t.Fatalf("full chain has %d certificates, want the leaf and its intermediate", len(chain))
	}
	intermediates := x509.NewCertPool()
	for _, c := range chain[1:] {
		intermediates.AddCert(c)
	}
	for _, d := range domains {
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, DNSName: d})
		if err != nil {
			t.Errorf("chain for %s: %v", d, err)
		}
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: intermediates}); err == nil {
		t.Error("the chain verifies without Pebble's root; the check above proves nothing")
	}
	return chain[0]
}

func TestObtainFromPebbleFailures(t *testing.T) {
	env := startPebble(t)
	presentErr := errors.New("disk full")

	tests := []struct {
		name string
		// resolve points the domain at the in-process server.
		resolve bool
		present func(w *webroot, cancel context.CancelFunc) func(ctx context.Context, domain, token, keyAuth string) error
		wantIs  error
		wantMsg []string
	}{
		{
			name:    "solver writes nothing",
			resolve: true,
			present: func(*webroot, context.CancelFunc) func(context.Context, string, string, string) error {
				return func(context.Context, string, string, string) error { return nil }
			},
			wantIs:  certs.ErrChallengeFailed,
			wantMsg: []string{"404"},
		},
		{
			name:    "wrong key authorization",
			resolve: true,
			present: func(w *webroot, _ context.CancelFunc) func(context.Context, string, string, string) error {
				return func(_ context.Context, _, token, _ string) error {
					w.publish(token, token+".not-the-account-thumbprint")
					return nil
				}
			},
			wantIs: certs.ErrChallengeFailed,
		},
		{
			name:    "domain does not resolve",
			resolve: false,
			wantIs:  certs.ErrChallengeFailed,
			wantMsg: []string{"resolv"},
		},
		{
			name:    "solver fails",
			resolve: true,
			present: func(*webroot, context.CancelFunc) func(context.Context, string, string, string) error {
				return func(context.Context, string, string, string) error { return presentErr }
			},
			wantIs: presentErr,
		},
		{
			name:    "cancelled while presenting",
			resolve: true,
			present: func(w *webroot, cancel context.CancelFunc) func(context.Context, string, string, string) error {
				return func(_ context.Context, _, token, keyAuth string) error {
					w.publish(token, keyAuth)
					cancel()
					return nil
				}
			},
			wantIs: context.Canceled,
		},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			domain := "fail" + string(rune('a'+n)) + ".chom.test"
			w := newWebroot()
			if tt.present != nil {
				w.present = tt.present(w, cancel)
			}
			if tt.resolve {
				env.site(t, domain, w)
			}
			cert, err := env.issuer(t, nil).Obtain(ctx, []string{domain}, w)
			if err == nil {
				t.Fatalf("Obtain succeeded with %s", cert)
			}
			t.Logf("Obtain: %v", err)
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %q", err, tt.wantIs)
			}
			for _, want := range append([]string{domain}, tt.wantMsg...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			w.checkCleanedUp(t)
		})
	}
}
