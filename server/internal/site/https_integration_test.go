package site_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testacme"
	"github.com/chomhq/chom/server/internal/testhost"
)

// servedCertificate connects to the host's HTTPS port as a client of
// domain would, verifying the certificate against roots, and returns it
// with the page served.
func servedCertificate(t *testing.T, h testhost.Host, domain string, roots *x509.CertPool) (*x509.Certificate, string, error) {
	t.Helper()
	addr := net.JoinHostPort(h.Address, "443")
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			},
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: domain, MinVersion: tls.VersionTLS12},
		},
	}
	resp, err := client.Get("https://" + domain + "/")
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var body strings.Builder
	_, _ = fmt.Fprint(&body, resp.Status)
	return resp.TLS.PeerCertificates[0], body.String(), nil
}

func TestIntegrationHTTPSWithACME(t *testing.T) {
	pebble := testacme.Start(t, testacme.Options{})
	p := newPlatform(t,
		apitest.WithEnv("CHOM_ACME_DIRECTORY_URL", pebble.DirectoryURL),
		apitest.WithEnv("CHOM_ACME_CA_CERT_FILE", pebble.CACertFile))
	h := p.hosts[0]
	domain := "tls-" + suffix() + ".example.test"
	alias := "www." + domain
	pebble.AddA(t, domain, h.Address)
	pebble.AddA(t, alias, h.Address)
	roots := pebble.Roots(t)

	s := p.create(t, h, map[string]any{"domain": domain, "aliases": []string{alias}, "type": "html", "https": true})
	for _, name := range []string{domain, alias} {
		cert, status, err := servedCertificate(t, h, name, roots)
		if err != nil {
			t.Fatalf("HTTPS for %s: %v", name, err)
		}
		if status != "200 OK" {
			t.Fatalf("HTTPS for %s: %s", name, status)
		}
		if err := cert.VerifyHostname(name); err != nil {
			t.Fatal(err)
		}
	}
	if status, _, err := h.HTTPGet(t, domain, "/page?x=1"); err != nil || status != http.StatusMovedPermanently {
		t.Fatalf("HTTP: %d, %v; want a redirect to HTTPS", status, err)
	}
	c := p.do(t, http.MethodGet, "/api/v1/sites/"+s.ID+"/certificate", nil).Map(t)
	if c["status"] != "active" || c["source"] != "acme" || c["not_after"] == nil {
		t.Fatalf("certificate: %v", c)
	}
	if leaked := onHost(t, h, "stat -c '%a %U' /srv/chom/ssl/"+s.User+"/key.pem /srv/chom/ssl/"+s.User); leaked != "600 root\n700 root" {
		t.Fatalf("key file: %q", leaked)
	}
	first, _, err := servedCertificate(t, h, domain, roots)
	if err != nil {
		t.Fatal(err)
	}

	// Made to look due (30 days before expiry), the periodic renewal
	// replaces it.
	q := "UPDATE sites SET certificate_not_before = ?, certificate_not_after = ? WHERE id = ?"
	if p.e.Dialect != "sqlite" {
		q = "UPDATE sites SET certificate_not_before = $1, certificate_not_after = $2 WHERE id = $3"
	}
	now := time.Now().UTC()
	if _, err := p.e.Server.Store.SQLDB().Exec(q, now.Add(-80*24*time.Hour), now.Add(10*24*time.Hour), s.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.e.Server.Sites.RenewCertificates(context.Background()); err != nil {
		t.Fatalf("renew: %v", err)
	}
	ops := p.do(t, http.MethodGet, "/api/v1/operations?target_id="+s.ID, nil).Map(t)["data"].([]any)
	latest := ops[0].(map[string]any)
	if latest["kind"] != "site.certificate" {
		t.Fatalf("the renewal started no certificate operation: %v", latest)
	}
	if op := p.wait(t, latest["id"].(string)); op["status"] != "succeeded" {
		t.Fatalf("renewal: %v\n%v", op["error"], op["log"])
	}
	second, _, err := servedCertificate(t, h, domain, roots)
	if err != nil {
		t.Fatal(err)
	}
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("the renewal did not replace the served certificate")
	}
	if err := p.e.Server.Sites.RenewCertificates(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := p.do(t, http.MethodGet, "/api/v1/operations?target_id="+s.ID, nil).Map(t)["data"].([]any); len(again) != len(ops) {
		t.Fatalf("a fresh certificate was renewed again: %d operations, had %d", len(again), len(ops))
	}
}
