package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/problem"
)

// testCert is a certificate made for a test, with its key.
type testCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func (c testCert) certPEM() []byte { return encodeCert(c.cert) }

func (c testCert) keyPEM(t *testing.T) []byte {
	t.Helper()
	data, err := encodeKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type certSpec struct {
	domains   []string
	notBefore time.Time
	notAfter  time.Time
	isCA      bool
	key       crypto.Signer // generated when nil
	parent    *testCert     // self-signed when nil
}

var serial int64

func makeCert(t *testing.T, s certSpec) testCert {
	t.Helper()
	key := s.key
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "test " + strings.Join(s.domains, " ")},
		DNSNames:              s.domains,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		IsCA:                  s.isCA,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	parent, signer := tmpl, key
	if s.parent != nil {
		parent, signer = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{cert: cert, key: key}
}

func TestParseUserCertificate(t *testing.T) {
	now := time.Now()
	good := makeCert(t, certSpec{domains: []string{"example.com", "www.example.com"}})
	other := makeCert(t, certSpec{domains: []string{"example.com"}})
	expired := makeCert(t, certSpec{domains: []string{"example.com"},
		notBefore: now.Add(-100 * 24 * time.Hour), notAfter: now.Add(-24 * time.Hour)})
	future := makeCert(t, certSpec{domains: []string{"example.com"}, notBefore: now.Add(24 * time.Hour)})
	wildcard := makeCert(t, certSpec{domains: []string{"*.example.com"}})
	ca := makeCert(t, certSpec{isCA: true})
	intermediate := makeCert(t, certSpec{isCA: true, parent: &ca})
	leaf := makeCert(t, certSpec{domains: []string{"example.com"}, parent: &intermediate})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaCert := makeCert(t, certSpec{domains: []string{"example.com"}, key: rsaKey})
	ecKey := good.key.(*ecdsa.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}

	concat := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})

	tests := []struct {
		name    string
		cert    []byte
		key     []byte
		domains []string
		// wantFields maps each field expected in the error to a part of
		// its message; empty means success.
		wantFields map[string]string
		wantChain  int // certificates expected in ChainPEM
	}{
		{name: "good", cert: good.certPEM(), key: good.keyPEM(t), domains: []string{"example.com", "www.example.com"}},
		{name: "subset of the names", cert: good.certPEM(), key: good.keyPEM(t), domains: []string{"www.example.com"}},
		{name: "wildcard", cert: wildcard.certPEM(), key: wildcard.keyPEM(t), domains: []string{"shop.example.com"}},
		{name: "chain in order", cert: concat(leaf.certPEM(), intermediate.certPEM(), ca.certPEM()),
			key: leaf.keyPEM(t), domains: []string{"example.com"}, wantChain: 2},
		{name: "rsa key in pkcs1", cert: rsaCert.certPEM(),
			key:     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}),
			domains: []string{"example.com"}},
		{name: "ec key in sec1 with parameters", cert: good.certPEM(),
			key: concat(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
				pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})),
			domains: []string{"example.com"}},
		{name: "mismatched key", cert: good.certPEM(), key: other.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"key_pem": "does not match the certificate"}},
		{name: "wrong domain", cert: good.certPEM(), key: good.keyPEM(t), domains: []string{"example.com", "example.org"},
			wantFields: map[string]string{"cert_pem": "does not cover example.org"}},
		{name: "wildcard does not cover the apex", cert: wildcard.certPEM(), key: wildcard.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "does not cover example.com"}},
		{name: "expired", cert: expired.certPEM(), key: expired.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "expired on"}},
		{name: "not yet valid", cert: future.certPEM(), key: future.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "not valid before"}},
		{name: "expired and wrong domain and wrong key", cert: expired.certPEM(), key: good.keyPEM(t), domains: []string{"example.org"},
			wantFields: map[string]string{"cert_pem": "expired on", "key_pem": "does not match"}},
		{name: "chain out of order", cert: concat(leaf.certPEM(), ca.certPEM(), intermediate.certPEM()),
			key: leaf.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "certificate 1 was not issued by certificate 2"}},
		{name: "no certificate", cert: []byte("not a certificate"), key: good.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "no PEM certificate"}},
		{name: "corrupt certificate", cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}),
			key: good.keyPEM(t), domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "certificate 1 is not valid"}},
		{name: "key pasted into cert_pem", cert: concat(good.certPEM(), good.keyPEM(t)), key: good.keyPEM(t),
			domains: []string{"example.com"}, wantFields: map[string]string{"cert_pem": "contains a private key"}},
		{name: "no key", cert: good.certPEM(), key: nil, domains: []string{"example.com"},
			wantFields: map[string]string{"key_pem": "no PEM private key"}},
		{name: "certificate instead of key", cert: good.certPEM(), key: good.certPEM(), domains: []string{"example.com"},
			wantFields: map[string]string{"key_pem": "no PEM private key"}},
		{name: "encrypted key", cert: good.certPEM(), key: encrypted, domains: []string{"example.com"},
			wantFields: map[string]string{"key_pem": "encrypted"}},
		{name: "corrupt key", cert: good.certPEM(), key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}),
			domains: []string{"example.com"}, wantFields: map[string]string{"key_pem": "not a valid private key"}},
		{name: "both fields broken", cert: nil, key: nil, domains: []string{"example.com"},
			wantFields: map[string]string{"cert_pem": "no PEM certificate", "key_pem": "no PEM private key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUserCertificate(tt.cert, tt.key, tt.domains)
			if len(tt.wantFields) > 0 {
				if err == nil {
					t.Fatalf("no error, want errors on %v", tt.wantFields)
				}
				p, ok := problem.As(err)
				if !ok || p.Kind != problem.KindInvalid {
					t.Fatalf("error %v is not a validation problem", err)
				}
				if len(p.Fields) != len(tt.wantFields) {
					t.Errorf("fields %v, want exactly %v", p.Fields, tt.wantFields)
				}
				for field, want := range tt.wantFields {
					if !strings.Contains(p.Fields[field], want) {
						t.Errorf("field %s: %q, want it to contain %q", field, p.Fields[field], want)
					}
				}
				if len(tt.key) > 0 && strings.Contains(err.Error(), string(pemBody(tt.key))) {
					t.Errorf("the error quotes the private key")
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUserCertificate: %v", err)
			}
			leafCert, _ := pem.Decode(got.CertPEM)
			wantLeaf, _ := pem.Decode(tt.cert)
			if leafCert == nil || string(leafCert.Bytes) != string(wantLeaf.Bytes) {
				t.Errorf("CertPEM is not the first certificate of the input")
			}
			if n := strings.Count(string(got.ChainPEM), "BEGIN CERTIFICATE"); n != tt.wantChain {
				t.Errorf("ChainPEM has %d certificates, want %d", n, tt.wantChain)
			}
			key, err := parseKey(got.KeyPEM)
			if err != nil {
				t.Fatalf("KeyPEM: %v", err)
			}
			chain, err := parseChain(got.FullChainPEM())
			if err != nil {
				t.Fatalf("FullChainPEM: %v", err)
			}
			if !publicKeysEqual(key.Public(), chain[0].PublicKey) {
				t.Errorf("KeyPEM does not belong to the leaf")
			}
			if len(chain) != 1+tt.wantChain {
				t.Errorf("FullChainPEM has %d certificates, want %d", len(chain), 1+tt.wantChain)
			}
			if !got.NotAfter.Equal(chain[0].NotAfter) || !got.NotBefore.Equal(chain[0].NotBefore) {
				t.Errorf("validity %v..%v, want %v..%v", got.NotBefore, got.NotAfter, chain[0].NotBefore, chain[0].NotAfter)
			}
			if !slices.Equal(got.Domains, chain[0].DNSNames) {
				t.Errorf("Domains %v, want %v", got.Domains, chain[0].DNSNames)
			}
			if got.Issuer == "" {
				t.Errorf("Issuer is empty")
			}
		})
	}
}

// pemBody returns the base64 text of the first PEM block in data.
func pemBody(data []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 3 {
		return data
	}
	return []byte(lines[1])
}

func TestParseUserCertificateNeedsDomains(t *testing.T) {
	c := makeCert(t, certSpec{domains: []string{"example.com"}})
	_, err := ParseUserCertificate(c.certPEM(), c.keyPEM(t), nil)
	if err == nil {
		t.Fatal("no error for an empty domain list")
	}
	if _, ok := problem.As(err); ok {
		t.Errorf("a missing domain list is the caller's bug, not a validation problem: %v", err)
	}
}

func TestCertificateFormattingHidesKey(t *testing.T) {
	c := makeCert(t, certSpec{domains: []string{"example.com"}})
	cert, err := ParseUserCertificate(c.certPEM(), c.keyPEM(t), []string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	secret := string(pemBody(cert.KeyPEM))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("issued", "cert", cert)
	outputs := map[string]string{"slog": logged.String()}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		outputs[format] = fmt.Sprintf(format, cert)
	}
	for how, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("%s prints the private key: %s", how, out)
		}
		if !strings.Contains(out, "example.com") {
			t.Errorf("%s does not name the domain: %s", how, out)
		}
	}
}

func TestNeedsRenewal(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ninety := &Certificate{NotBefore: issued, NotAfter: issued.Add(90 * day)}
	fortyFive := &Certificate{NotBefore: issued, NotAfter: issued.Add(45 * day)}
	six := &Certificate{NotBefore: issued, NotAfter: issued.Add(6 * day)}
	tests := []struct {
		name string
		cert *Certificate
		now  time.Time
		want bool
	}{
		{"no certificate", nil, issued, true},
		{"no expiry recorded", &Certificate{}, issued, true},
		{"90-day, just issued", ninety, issued, false},
		{"90-day, 31 days left", ninety, ninety.NotAfter.Add(-31 * day), false},
		{"90-day, one second before the window", ninety, ninety.NotAfter.Add(-30*day - time.Second), false},
		{"90-day, exactly 30 days left", ninety, ninety.NotAfter.Add(-30 * day), true},
		{"90-day, 29 days left", ninety, ninety.NotAfter.Add(-29 * day), true},
		{"90-day, expired", ninety, ninety.NotAfter.Add(time.Hour), true},
		{"45-day, 16 days left", fortyFive, fortyFive.NotAfter.Add(-16 * day), false},
		{"45-day, 15 days left", fortyFive, fortyFive.NotAfter.Add(-15 * day), true},
		{"6-day, 3 days left", six, six.NotAfter.Add(-3 * day), false},
		{"6-day, 2 days left", six, six.NotAfter.Add(-2 * day), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsRenewal(tt.cert, tt.now); got != tt.want {
				t.Errorf("NeedsRenewal at %v = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}
