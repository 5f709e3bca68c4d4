package certs

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
)

// LetsEncryptURL is the production ACME directory of Let's Encrypt.
const LetsEncryptURL = acme.LetsEncryptURL

var (
	// ErrChallengeFailed means the CA could not fetch the key authorization
	// from the domain: DNS does not point at the server, a firewall blocks
	// port 80, or the site does not serve the challenge directory. The
	// wrapped message carries the CA's explanation.
	ErrChallengeFailed = errors.New("the CA could not validate the domain")
	// ErrRateLimited means the CA refused the request under its rate
	// limits; retrying soon will not help.
	ErrRateLimited = errors.New("rate limited by the CA")
)

// Config configures an Issuer.
type Config struct {
	// DirectoryURL is the ACME directory. Defaults to LetsEncryptURL.
	DirectoryURL string
	// Email is the account's contact address, where the CA sends expiry and
	// policy notices. Optional.
	Email string
	// CACertPool is the set of roots trusted for the ACME server's own TLS
	// certificate; nil means the system roots. See CertPoolFromFile.
	CACertPool *x509.CertPool
	// AccountKeyPEM is the ACME account key. When empty a new key is
	// generated; read it back with AccountKeyPEM and store it sealed, so
	// that later runs use the same account.
	AccountKeyPEM []byte
	// RequestTimeout bounds each HTTP request to the ACME server. Default
	// 30s. The whole issuance is bounded by the context passed to Obtain.
	RequestTimeout time.Duration
}

// Issuer obtains certificates from one ACME CA with one account. It is safe
// for concurrent use.
type Issuer struct {
	client     *acme.Client
	email      string
	accountKey []byte

	mu         sync.Mutex
	registered bool
}

// NewIssuer checks cfg and prepares an ACME client. It contacts nothing:
// the account is registered (or found, for an existing key) on the first
// Obtain.
func NewIssuer(cfg Config) (*Issuer, error) {
	dir := cfg.DirectoryURL
	if dir == "" {
		dir = LetsEncryptURL
	}
	u, err := url.Parse(dir)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		// RFC 8555 allows ACME only over HTTPS.
		return nil, fmt.Errorf("new issuer: directory URL %q is not an https URL", dir)
	}
	keyPEM := cfg.AccountKeyPEM
	var key crypto.Signer
	if len(keyPEM) == 0 {
		k, err := newKey()
		if err != nil {
			return nil, fmt.Errorf("new issuer: account %w", err)
		}
		if keyPEM, err = encodeKey(k); err != nil {
			return nil, fmt.Errorf("new issuer: account %w", err)
		}
		key = k
	} else if key, err = parseAccountKey(keyPEM); err != nil {
		return nil, fmt.Errorf("new issuer: account key: %w", err)
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &Issuer{
		client: &acme.Client{
			Key:          key,
			DirectoryURL: dir,
			HTTPClient:   newHTTPClient(cfg.CACertPool, timeout),
			RetryBackoff: retryBackoff,
			UserAgent:    "chom",
		},
		email:      cfg.Email,
		accountKey: append([]byte(nil), keyPEM...),
	}, nil
}

func newHTTPClient(roots *x509.CertPool, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
		},
	}
}

// Retries of bad nonces, 429 and 5xx answers. The acme package's own policy
// retries until the context ends, which would hold a job for as long as a
// rate limit lasts (hours at Let's Encrypt); beyond these bounds the error
// goes back to the caller, who reschedules.
const (
	maxRetries    = 5
	maxRetryAfter = time.Minute
)

func retryBackoff(n int, _ *http.Request, resp *http.Response) time.Duration {
	if n > maxRetries {
		return 0
	}
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After")); ok {
			if d > maxRetryAfter {
				return 0
			}
			return max(d, 100*time.Millisecond)
		}
	}
	return min(time.Duration(1<<(n-1))*time.Second, 10*time.Second)
}

// parseRetryAfter reads either form of a Retry-After header: seconds or an
// HTTP date.
func parseRetryAfter(v string) (time.Duration, bool) {
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t), true
	}
	return 0, false
}

// AccountKeyPEM returns the account key as PKCS #8 PEM: the one from Config,
// or the one NewIssuer generated. It is secret; seal it before storing it.
func (i *Issuer) AccountKeyPEM() []byte { return append([]byte(nil), i.accountKey...) }

// cleanupTimeout bounds a ChallengeSolver's CleanUp, which runs even after
// the issuance's context has ended.
const cleanupTimeout = 30 * time.Second

// Obtain gets a certificate covering domains from the CA, proving control
// of each through solver. The certificate's key is new for every call. Every challenge presented is
// cleaned up again, whether issuance succeeds, fails or is cancelled.
//
// A domain the CA cannot validate yields an error wrapping
// ErrChallengeFailed; a rate limit, one wrapping ErrRateLimited.
func (i *Issuer) Obtain(ctx context.Context, domains []string, solver ChallengeSolver) (*Certificate, error) {
	names, err := checkDomains(domains)
	if err != nil {
		return nil, fmt.Errorf("obtain certificate: %w", err)
	}
	if solver == nil {
		return nil, errors.New("obtain certificate: no challenge solver")
	}
	cert, err := i.obtain(ctx, names, solver)
	if err != nil {
		if _, limited := acme.RateLimit(acmeError(err)); limited {
			err = fmt.Errorf("%w: %w", ErrRateLimited, err)
		}
		return nil, fmt.Errorf("obtain certificate for %s: %w", strings.Join(names, ", "), err)
	}
	return cert, nil
}

func (i *Issuer) obtain(ctx context.Context, names []string, solver ChallengeSolver) (*Certificate, error) {
	if err := i.register(ctx); err != nil {
		return nil, err
	}
	order, err := i.client.AuthorizeOrder(ctx, acme.DomainIDs(names...))
	if err != nil {
		return nil, fmt.Errorf("new order: %w", err)
	}
	for _, authzURL := range order.AuthzURLs {
		if err := i.authorize(ctx, authzURL, solver); err != nil {
			return nil, err
		}
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(nil, &x509.CertificateRequest{DNSNames: names}, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate request: %w", err)
	}
	// This finalizes the order, waits for issuance and downloads the leaf
	// with its chain. It needs the whole order: a finalize response need
	// not say where to poll.
	der, _, err := i.client.CreateCertFromOrder(ctx, order, csr, true)
	if err != nil {
		return nil, fmt.Errorf("finalize order: %w", err)
	}
	chain := make([]*x509.Certificate, 0, len(der))
	for _, b := range der {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("parse issued certificate: %w", err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, errors.New("the CA returned no certificate")
	}
	// The CA must not have left out or swapped a name.
	if err := checkCovers(chain[0], names); err != nil {
		return nil, fmt.Errorf("issued certificate: %w", err)
	}
	cert, err := newCertificate(chain, key)
	if err != nil {
		return nil, fmt.Errorf("issued certificate: %w", err)
	}
	return cert, nil
}

// register creates the ACME account, or finds the one that already belongs
// to the key, once per Issuer.
func (i *Issuer) register(ctx context.Context) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.registered {
		return nil
	}
	var acct acme.Account
	if i.email != "" {
		acct.Contact = []string{"mailto:" + i.email}
	}
	// Running CHOM against a CA is the operator's acceptance of its terms.
	_, err := i.client.Register(ctx, &acct, acme.AcceptTOS)
	if err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return fmt.Errorf("register account: %w", err)
	}
	i.registered = true
	return nil
}

// authorize proves control of one identifier of the order through HTTP-01.
// An authorization that is already valid (the CA reuses recent ones) needs
// nothing.
func (i *Issuer) authorize(ctx context.Context, authzURL string, solver ChallengeSolver) error {
	authz, err := i.client.GetAuthorization(ctx, authzURL)
	if err != nil {
		return fmt.Errorf("get authorization: %w", err)
	}
	domain := authz.Identifier.Value
	switch authz.Status {
	case acme.StatusValid:
		return nil
	case acme.StatusPending:
	default:
		return fmt.Errorf("authorize %s: authorization is %s", domain, authz.Status)
	}
	var chal *acme.Challenge
	for _, c := range authz.Challenges {
		if c.Type == "http-01" {
			chal = c
			break
		}
	}
	if chal == nil {
		return fmt.Errorf("authorize %s: the CA offers no http-01 challenge", domain)
	}
	if err := i.solve(ctx, authz, chal, solver); err != nil {
		return fmt.Errorf("authorize %s: %w", domain, err)
	}
	return nil
}

// solve presents the challenge, has the CA validate it and cleans up.
func (i *Issuer) solve(ctx context.Context, authz *acme.Authorization, chal *acme.Challenge, solver ChallengeSolver) (err error) {
	domain := authz.Identifier.Value
	keyAuth, err := i.client.HTTP01ChallengeResponse(chal.Token)
	if err != nil {
		return fmt.Errorf("key authorization: %w", err)
	}
	defer func() {
		// A Present that failed half-way may still have written something.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if cerr := solver.CleanUp(cctx, domain, chal.Token); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := solver.Present(ctx, domain, chal.Token, keyAuth); err != nil {
		return err
	}
	if _, err := i.client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("accept challenge: %w", err)
	}
	if _, err := i.client.WaitAuthorization(ctx, authz.URI); err != nil {
		var authErr *acme.AuthorizationError
		if errors.As(err, &authErr) {
			return fmt.Errorf("%w: %s", ErrChallengeFailed, describeAuthorizationError(authErr))
		}
		return fmt.Errorf("wait for validation: %w", err)
	}
	return nil
}

// describeAuthorizationError keeps the CA's explanations, which tell the
// user what to fix (for example "... returned 404"), and drops the URLs and
// problem type URNs around them.
func describeAuthorizationError(e *acme.AuthorizationError) string {
	var details []string
	for _, err := range e.Errors {
		var ae *acme.Error
		if errors.As(err, &ae) && ae.Detail != "" {
			details = append(details, ae.Detail)
		} else {
			details = append(details, err.Error())
		}
	}
	if len(details) == 0 {
		return "the authorization is invalid"
	}
	return strings.Join(details, "; ")
}

// acmeError finds the *acme.Error in err's chain; acme.RateLimit inspects
// only its argument itself.
func acmeError(err error) error {
	var ae *acme.Error
	if errors.As(err, &ae) {
		return ae
	}
	return err
}

// checkDomains returns the domains lower-cased and without duplicates,
// refusing what HTTP-01 cannot validate.
func checkDomains(domains []string) ([]string, error) {
	if len(domains) == 0 {
		return nil, errors.New("no domains")
	}
	seen := make(map[string]bool, len(domains))
	names := make([]string, 0, len(domains))
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSuffix(d, "."))
		if err := checkDomain(d); err != nil {
			return nil, err
		}
		if !seen[d] {
			seen[d] = true
			names = append(names, d)
		}
	}
	return names, nil
}

func checkDomain(d string) error {
	if strings.HasPrefix(d, "*.") {
		return fmt.Errorf("domain %q: wildcard certificates need DNS-01, which is not supported", d)
	}
	if len(d) > 253 || !strings.Contains(d, ".") || net.ParseIP(d) != nil {
		return fmt.Errorf("domain %q is not a fully qualified domain name", d)
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("domain %q is not a valid domain name", d)
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return fmt.Errorf("domain %q is not a valid domain name (internationalized names must be in punycode)", d)
			}
		}
	}
	return nil
}

// CertPoolFromFile returns the system roots plus the PEM certificates in
// path, for a CA whose TLS certificate is not publicly trusted (a private or
// test ACME server; the acme-ca-cert-file setting). An empty path returns
// nil: the system roots alone.
func CertPoolFromFile(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acme ca certificates: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("acme ca certificates: no PEM certificate in %s", path)
	}
	return pool, nil
}
