package certs

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewIssuer(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "defaults to Let's Encrypt", cfg: Config{}},
		{name: "custom directory", cfg: Config{DirectoryURL: "https://127.0.0.1:14000/dir"}},
		{name: "plain http", cfg: Config{DirectoryURL: "http://acme.example/dir"}, wantErr: "not an https URL"},
		{name: "no host", cfg: Config{DirectoryURL: "https:///dir"}, wantErr: "not an https URL"},
		{name: "garbage key", cfg: Config{AccountKeyPEM: []byte("nope")}, wantErr: "no PEM private key"},
		{name: "ed25519 key", cfg: Config{AccountKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})},
			wantErr: "ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, err := NewIssuer(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewIssuer: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewIssuer: %v", err)
			}
			want := tt.cfg.DirectoryURL
			if want == "" {
				want = LetsEncryptURL
			}
			if i.client.DirectoryURL != want {
				t.Errorf("directory %q, want %q", i.client.DirectoryURL, want)
			}
		})
	}
}

func TestIssuerKeepsAccountKey(t *testing.T) {
	first, err := NewIssuer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	generated := first.AccountKeyPEM()
	if _, err := parseAccountKey(generated); err != nil {
		t.Fatalf("generated account key does not parse: %v", err)
	}
	second, err := NewIssuer(Config{AccountKeyPEM: generated})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second.AccountKeyPEM(), generated) {
		t.Error("an issuer given a key reports a different one")
	}
	if !publicKeysEqual(second.client.Key.Public(), first.client.Key.Public()) {
		t.Error("an issuer given a key signs with a different one")
	}
	third, err := NewIssuer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(third.AccountKeyPEM(), generated) {
		t.Error("two generated account keys are equal")
	}
}

func TestObtainRefusesBadDomainsOffline(t *testing.T) {
	// Nothing listens there: the checks must fail before any request.
	i, err := NewIssuer(Config{DirectoryURL: "https://127.0.0.1:1/dir", RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	solver := SSHSolver{Runner: &recordingRunner{}, Dir: "/srv/acme"}
	tests := []struct {
		name    string
		domains []string
		solver  ChallengeSolver
		wantErr string
	}{
		{"no domains", nil, solver, "no domains"},
		{"wildcard", []string{"*.example.com"}, solver, "DNS-01"},
		{"ip address", []string{"192.0.2.7"}, solver, "not a fully qualified"},
		{"single label", []string{"localhost"}, solver, "not a fully qualified"},
		{"underscore", []string{"a_b.example.com"}, solver, "not a valid domain"},
		{"unicode", []string{"bücher.example"}, solver, "punycode"},
		{"empty label", []string{"a..example.com"}, solver, "not a valid domain"},
		{"leading hyphen", []string{"-a.example.com"}, solver, "not a valid domain"},
		{"no solver", []string{"example.com"}, nil, "no challenge solver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := i.Obtain(ctx, tt.domains, tt.solver)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Obtain: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckDomainsNormalizes(t *testing.T) {
	got, err := checkDomains([]string{"Example.COM", "www.example.com.", "example.com", "xn--bcher-kva.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com", "www.example.com", "xn--bcher-kva.example"}
	if !slices.Equal(got, want) {
		t.Errorf("checkDomains = %q, want %q", got, want)
	}
}

func TestRetryBackoff(t *testing.T) {
	withRetryAfter := func(v string) *http.Response {
		return &http.Response{Header: http.Header{"Retry-After": {v}}}
	}
	plain := &http.Response{Header: http.Header{}}
	tests := []struct {
		name string
		n    int
		resp *http.Response
		want time.Duration
	}{
		{"first retry", 1, plain, time.Second},
		{"third retry", 3, plain, 4 * time.Second},
		{"capped", 5, plain, 10 * time.Second},
		{"gives up", maxRetries + 1, plain, 0},
		{"short Retry-After honoured", 1, withRetryAfter("3"), 3 * time.Second},
		{"long Retry-After returns the error", 1, withRetryAfter("3600"), 0},
		{"unparseable Retry-After", 2, withRetryAfter("soon"), 2 * time.Second},
		{"Retry-After of zero", 2, withRetryAfter("0"), 100 * time.Millisecond},
		{"no response", 2, nil, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryBackoff(tt.n, nil, tt.resp); got != tt.want {
				t.Errorf("retryBackoff(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestCertPoolFromFile(t *testing.T) {
	ca := makeCert(t, certSpec{isCA: true})
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(good, ca.certPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}

	if pool, err := CertPoolFromFile(""); pool != nil || err != nil {
		t.Errorf("empty path: %v, %v; want nil, nil (system roots)", pool, err)
	}
	if _, err := CertPoolFromFile(empty); err == nil {
		t.Error("a file without certificates was accepted")
	}
	if _, err := CertPoolFromFile(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing file was accepted")
	}
	pool, err := CertPoolFromFile(good)
	if err != nil {
		t.Fatal(err)
	}
	leaf := makeCert(t, certSpec{domains: []string{"acme.example"}, parent: &ca})
	if _, err := leaf.cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "acme.example"}); err != nil {
		t.Errorf("a certificate from the file's CA does not verify: %v", err)
	}
}

// TestObtainStopsOnLongRateLimit runs against a stub CA that answers every
// new order with a rate limit lasting an hour: Obtain must report it at once
// instead of waiting it out.
func TestObtainStopsOnLongRateLimit(t *testing.T) {
	var orders atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	nonce := func(w http.ResponseWriter) { w.Header().Set("Replay-Nonce", "n"+strconv.Itoa(int(orders.Load()))) }
	mux.HandleFunc("/dir", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"newNonce": srv.URL + "/nonce", "newAccount": srv.URL + "/account", "newOrder": srv.URL + "/order",
		})
	})
	mux.HandleFunc("/nonce", func(w http.ResponseWriter, _ *http.Request) { nonce(w) })
	mux.HandleFunc("/account", func(w http.ResponseWriter, _ *http.Request) {
		nonce(w)
		w.Header().Set("Location", srv.URL+"/account/1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"status":"valid"}`))
	})
	mux.HandleFunc("/order", func(w http.ResponseWriter, _ *http.Request) {
		orders.Add(1)
		nonce(w)
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates for this domain"}`))
	})
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	i, err := NewIssuer(Config{DirectoryURL: srv.URL + "/dir", CACertPool: roots})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = i.Obtain(ctx, []string{"example.com"}, SSHSolver{Runner: &recordingRunner{}, Dir: "/srv/acme"})
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Obtain: %v, want ErrRateLimited", err)
	}
	if !strings.Contains(err.Error(), "too many certificates") {
		t.Errorf("error %q lost the CA's explanation", err)
	}
	if n := orders.Load(); n != 1 {
		t.Errorf("the order was sent %d times, want once", n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Obtain took %s", d)
	}
}
