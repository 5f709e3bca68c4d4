package certs

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/chomhq/chom/server/internal/problem"
)

// Certificate is a leaf certificate with its chain and private key, ready to
// be sealed and deployed. KeyPEM is secret: seal it with secrets.Box before
// storing it.
type Certificate struct {
	CertPEM  []byte // the leaf certificate
	ChainPEM []byte // intermediates, issuer of the leaf first; may be empty
	KeyPEM   []byte // PKCS #8 private key of the leaf
	// NotBefore and NotAfter bound the leaf's validity.
	NotBefore time.Time
	NotAfter  time.Time
	// Domains are the DNS names the leaf covers, as listed in it.
	Domains []string
	// Issuer is the common name (or, lacking one, the distinguished name)
	// of the CA certificate that signed the leaf.
	Issuer string
}

// FullChainPEM returns the leaf followed by its chain, the form nginx's
// ssl_certificate expects.
func (c *Certificate) FullChainPEM() []byte {
	out := make([]byte, 0, len(c.CertPEM)+len(c.ChainPEM))
	return append(append(out, c.CertPEM...), c.ChainPEM...)
}

// String describes the certificate without its key, so that %v and %s
// never print key material.
func (c *Certificate) String() string {
	return fmt.Sprintf("certificate for %s issued by %q, valid %s to %s",
		strings.Join(c.Domains, ", "), c.Issuer,
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing the private key.
func (c *Certificate) GoString() string { return "certs.Certificate{" + c.String() + "}" }

// LogValue keeps the private key out of structured logs.
func (c *Certificate) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("domains", c.Domains),
		slog.String("issuer", c.Issuer),
		slog.Time("not_before", c.NotBefore),
		slog.Time("not_after", c.NotAfter),
	)
}

// RenewBefore is how long before expiry a certificate is renewed, as Let's
// Encrypt recommends for its 90-day certificates.
const RenewBefore = 30 * 24 * time.Hour

// NeedsRenewal reports whether c should be replaced at now: from RenewBefore
// before it expires, or for a certificate whose whole lifetime is shorter
// than three times that, once two thirds of its lifetime have passed, so
// that short-lived certificates are not renewed on every check. A nil
// certificate needs one.
func NeedsRenewal(c *Certificate, now time.Time) bool {
	if c == nil || c.NotAfter.IsZero() {
		return true
	}
	window := RenewBefore
	if lifetime := c.NotAfter.Sub(c.NotBefore); lifetime < 3*RenewBefore {
		window = lifetime / 3
	}
	return !now.Before(c.NotAfter.Add(-window))
}

// Request fields named in the errors of ParseUserCertificate.
const (
	fieldCert = "cert_pem"
	fieldKey  = "key_pem"
)

// ParseUserCertificate checks a certificate and key a user uploads for their
// site: the key must belong to the leaf (the first certificate in certPEM),
// the leaf must cover every domain and be valid now, and any further
// certificates must form its chain in order. Failures are problem errors
// naming the field at fault (cert_pem or key_pem); they never quote the key.
func ParseUserCertificate(certPEM, keyPEM []byte, domains []string) (*Certificate, error) {
	return parseUserCertificate(certPEM, keyPEM, domains, time.Now())
}

func parseUserCertificate(certPEM, keyPEM []byte, domains []string, now time.Time) (*Certificate, error) {
	fields := fieldErrors{}
	if len(domains) == 0 {
		// The caller passes the site's domains; none is a bug, not bad input.
		return nil, errors.New("parse certificate: no domains to check against")
	}
	chain, err := parseChain(certPEM)
	if err != nil {
		fields.Add(fieldCert, err.Error())
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		fields.Add(fieldKey, err.Error())
	}
	if len(fields) > 0 {
		return nil, problem.Fields(fields).Err()
	}
	leaf := chain[0]
	if !publicKeysEqual(key.Public(), leaf.PublicKey) {
		fields.Add(fieldKey, "the private key does not match the certificate")
	}
	switch {
	case now.After(leaf.NotAfter):
		fields.Add(fieldCert, "the certificate expired on "+leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		fields.Add(fieldCert, "the certificate is not valid before "+leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if err := checkCovers(leaf, domains); err != nil {
		fields.Add(fieldCert, err.Error())
	}
	if err := checkOrder(chain); err != nil {
		fields.Add(fieldCert, err.Error())
	}
	if len(fields) > 0 {
		return nil, problem.Fields(fields).Err()
	}
	c, err := newCertificate(chain, key)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return c, nil
}

// fieldErrors collects every problem with a field rather than only the
// first, so that a user fixes an upload in one round.
type fieldErrors map[string]string

func (f fieldErrors) Add(field, msg string) {
	if prev, ok := f[field]; ok {
		msg = prev + "; " + msg
	}
	f[field] = msg
}

// parseChain reads every CERTIFICATE block in data, leaf first.
func parseChain(data []byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, errors.New("contains a private key; send it as key_pem")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d is not valid: %w", len(chain)+1, err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return chain, nil
}

// checkCovers reports the first domain the leaf is not valid for. Wildcards
// in the certificate are honoured.
func checkCovers(leaf *x509.Certificate, domains []string) error {
	for _, d := range domains {
		if err := leaf.VerifyHostname(d); err != nil {
			return fmt.Errorf("the certificate does not cover %s (it covers %s)", d, describeNames(leaf))
		}
	}
	return nil
}

func describeNames(leaf *x509.Certificate) string {
	if len(leaf.DNSNames) == 0 {
		return "no DNS names"
	}
	return strings.Join(leaf.DNSNames, ", ")
}

// checkOrder verifies that each certificate was issued by the next one, so
// that the chain nginx serves is one clients can follow.
func checkOrder(chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return fmt.Errorf("certificate %d was not issued by certificate %d: list the leaf first, then each issuer in turn", i+1, i+2)
		}
	}
	return nil
}

// newCertificate assembles a Certificate from a chain whose leaf belongs to
// key.
func newCertificate(chain []*x509.Certificate, key crypto.Signer) (*Certificate, error) {
	leaf := chain[0]
	if !publicKeysEqual(key.Public(), leaf.PublicKey) {
		return nil, errors.New("the certificate is not for our key")
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	var chainPEM []byte
	for _, c := range chain[1:] {
		chainPEM = append(chainPEM, encodeCert(c)...)
	}
	issuer := leaf.Issuer.CommonName
	if issuer == "" {
		issuer = leaf.Issuer.String()
	}
	return &Certificate{
		CertPEM:   encodeCert(leaf),
		ChainPEM:  chainPEM,
		KeyPEM:    keyPEM,
		NotBefore: leaf.NotBefore,
		NotAfter:  leaf.NotAfter,
		Domains:   append([]string(nil), leaf.DNSNames...),
		Issuer:    issuer,
	}, nil
}

func encodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
