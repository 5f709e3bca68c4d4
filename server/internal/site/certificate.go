package site

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chomhq/chom/server/internal/certs"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/store"
)

// Certificate statuses.
const (
	// CertificateNone: HTTPS is off and no certificate is stored.
	CertificateNone = "none"
	// CertificatePending: HTTPS is on and the first certificate is not
	// obtained yet.
	CertificatePending = "pending"
	// CertificateActive: a certificate valid now is stored.
	CertificateActive = "active"
	// CertificateExpired: the stored certificate is past its end.
	CertificateExpired = "expired"
	// CertificateFailed: HTTPS is on, no certificate is stored and the last
	// issuance failed.
	CertificateFailed = "failed"
)

// Certificate describes a site's certificate, without its key.
type Certificate struct {
	Status    string
	Source    string
	Issuer    string
	Domains   []string
	NotBefore *time.Time
	NotAfter  *time.Time
	// Error is why the last issuance failed.
	Error string
}

// CertificateOf describes the site's certificate at now.
func CertificateOf(site *store.Site, now time.Time) Certificate {
	c := Certificate{
		Source: site.CertificateSource, Issuer: site.CertificateIssuer, Domains: site.CertificateDomains,
		NotBefore: site.CertificateNotBefore, NotAfter: site.CertificateNotAfter, Error: site.CertificateError,
	}
	switch {
	case site.CertificateSealed != "" && c.NotAfter != nil && now.After(*c.NotAfter):
		c.Status = CertificateExpired
	case site.CertificateSealed != "":
		c.Status = CertificateActive
	case !site.HTTPS:
		c.Status = CertificateNone
	case site.CertificateError != "":
		c.Status = CertificateFailed
	default:
		c.Status = CertificatePending
	}
	return c
}

// Certificate returns the site's certificate.
func (s *Service) Certificate(ctx context.Context, orgID, id string) (*store.Site, Certificate, error) {
	site, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, Certificate{}, err
	}
	return site, CertificateOf(site, s.now()), nil
}

// UploadCertificate stores a certificate (PEM, leaf first, then its chain)
// and its private key the user brings for the site, and starts deploying
// it. The certificate must cover the site's domain and aliases and be
// valid now; it is served while https is on, and never replaced by ACME
// unless a renewal is asked for.
func (s *Service) UploadCertificate(ctx context.Context, orgID, id string, certPEM, keyPEM []byte) (*store.Site, *store.Operation, error) {
	site, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, nil, err
	}
	f := problem.Fields{}
	if len(certPEM) == 0 {
		f.Add("cert_pem", "is required")
	}
	if len(keyPEM) == 0 {
		f.Add("key_pem", "is required")
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	c, err := certs.ParseUserCertificate(certPEM, keyPEM, site.Names())
	if err != nil {
		return nil, nil, err
	}
	u, err := s.certificateUpdate(site, store.CertificateUser, c)
	if err != nil {
		return nil, nil, fmt.Errorf("upload certificate: %w", err)
	}
	return s.start(ctx, orgID, id, KindCertificate, "site.certificate.upload", u, nil, map[string]any{
		"issuer": c.Issuer, "domains": c.Domains, "not_after": c.NotAfter,
	})
}

// RenewCertificate starts obtaining a new certificate through ACME now,
// replacing the stored one, uploaded or not.
func (s *Service) RenewCertificate(ctx context.Context, orgID, id string) (*store.Site, *store.Operation, error) {
	site, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, nil, err
	}
	if !site.HTTPS {
		return nil, nil, problem.Conflict("https_disabled", "the site does not serve HTTPS; set https to true first")
	}
	if s.Issuer == nil {
		return nil, nil, problem.Conflict("acme_not_configured", "no ACME directory is configured on the control plane; upload a certificate instead")
	}
	return s.start(ctx, orgID, id, KindCertificate, "site.certificate.renew", store.SiteUpdate{}, renewParams{Renew: true}, nil)
}

// renewBatch bounds the sites one renewal run starts operations for; the
// next run takes the rest.
const renewBatch = 100

// RenewCertificates starts a certificate operation for every idle HTTPS
// site whose ACME certificate is due (certs.NeedsRenewal: 30 days before
// it expires). It is the periodic job's work.
func (s *Service) RenewCertificates(ctx context.Context) error {
	if s.Issuer == nil {
		// Without an ACME directory nothing can be renewed.
		return nil
	}
	now := s.now()
	due, err := s.Store.SitesWithCertificateBefore(ctx, now.Add(certs.RenewBefore), renewBatch)
	if err != nil {
		return err
	}
	var errs []error
	for i := range due {
		site := &due[i]
		c := &certs.Certificate{NotAfter: *site.CertificateNotAfter}
		if site.CertificateNotBefore != nil {
			c.NotBefore = *site.CertificateNotBefore
		}
		if !certs.NeedsRenewal(c, now) {
			continue
		}
		_, op, err := s.start(ctx, site.OrganizationID, site.ID, KindCertificate, "site.certificate.renew",
			store.SiteUpdate{}, renewParams{Renew: true}, map[string]any{"expires_at": c.NotAfter, "automatic": true})
		switch {
		case errors.Is(err, errBusy), errors.Is(err, errSiteNotFound):
			// An operation holds the site, or it went away; the next run
			// looks again.
		case err != nil:
			errs = append(errs, fmt.Errorf("renew the certificate of site %s: %w", site.ID, err))
		default:
			s.Log.InfoContext(ctx, "renewing a site certificate", "site_id", site.ID, "operation_id", op.ID, "expires_at", c.NotAfter)
		}
	}
	return errors.Join(errs...)
}

// obtainCertificate gets a certificate through ACME unless the stored one
// serves: an uploaded one, or one that covers the site's names and is not
// due for renewal. renew forces a new one. The site's own nginx answers
// the HTTP-01 challenges, so it must serve the site over HTTP already.
func (s *Service) obtainCertificate(ctx context.Context, r *jobs.Run, renew bool) error {
	st, err := s.state(ctx, r)
	if err != nil {
		return err
	}
	site := st.site
	if !renew && site.CertificateSealed != "" {
		if site.CertificateSource == store.CertificateUser {
			r.Logf("serving the uploaded certificate, valid until %s", formatTime(site.CertificateNotAfter))
			return nil
		}
		c := &certs.Certificate{}
		if site.CertificateNotBefore != nil && site.CertificateNotAfter != nil {
			c.NotBefore, c.NotAfter = *site.CertificateNotBefore, *site.CertificateNotAfter
		}
		if covers(site.CertificateDomains, site.Names()) && !certs.NeedsRenewal(c, s.now()) {
			r.Logf("the certificate covers %v and is valid until %s", site.CertificateDomains, formatTime(site.CertificateNotAfter))
			return nil
		}
	}
	if s.Issuer == nil {
		return jobs.Permanent(errors.New("no ACME directory is configured on the control plane; upload a certificate instead"))
	}
	runner, ok := st.host.Runner.(certs.Runner)
	if !ok {
		return jobs.Permanent(errors.New("the SSH executor cannot upload challenge files"))
	}
	solver := certs.SSHSolver{Runner: runner, Target: st.host.Target, Dir: provision.ACMEChallengeDir}
	r.Logf("requesting a certificate for %v", site.Names())
	c, err := s.Issuer.Obtain(ctx, site.Names(), solver)
	if err != nil {
		msg := err.Error()
		if uerr := s.Store.UpdateSite(ctx, site.OrganizationID, site.ID, nil, store.SiteUpdate{CertificateError: &msg}); uerr != nil {
			return errors.Join(err, uerr)
		}
		if errors.Is(err, certs.ErrChallengeFailed) || errors.Is(err, certs.ErrRateLimited) {
			return jobs.Permanent(err)
		}
		return err
	}
	r.Secret(string(c.KeyPEM))
	u, err := s.certificateUpdate(site, store.CertificateACME, c)
	if err != nil {
		return err
	}
	if err := s.Store.UpdateSite(ctx, site.OrganizationID, site.ID, nil, u); err != nil {
		return fmt.Errorf("store the certificate: %w", err)
	}
	r.Logf("obtained a certificate from %s valid until %s", c.Issuer, c.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// certificateUpdate seals c for site.
func (s *Service) certificateUpdate(site *store.Site, source string, c *certs.Certificate) (store.SiteUpdate, error) {
	sealed, err := s.sealJSON(site, secretCertificate, storedCertificate{
		CertPEM: string(c.CertPEM), ChainPEM: string(c.ChainPEM), KeyPEM: string(c.KeyPEM),
	})
	if err != nil {
		return store.SiteUpdate{}, err
	}
	notBefore, notAfter := c.NotBefore, c.NotAfter
	return store.SiteUpdate{
		CertificateSource: &source,
		Certificate: store.SiteCertificate{
			Sealed: sealed, Issuer: c.Issuer, Domains: c.Domains, NotBefore: &notBefore, NotAfter: &notAfter,
		},
		CertificateError: ptr(""),
	}, nil
}

// covers reports whether a certificate for have names every one of want.
func covers(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "an unknown date"
	}
	return t.UTC().Format(time.RFC3339)
}
