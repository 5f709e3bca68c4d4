package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/chomhq/chom/server/internal/certs"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/site"
	"github.com/chomhq/chom/server/internal/store"
	usagereport "github.com/chomhq/chom/server/internal/usage"
)

// renewInterval is how often sites' certificates are checked for renewal;
// a certificate is renewed 30 days before it expires, so a daily miss
// costs nothing.
const renewInterval = time.Hour

// acmeIssuer returns the issuer of site certificates for the configured CA
// directory. Its account key is made once and kept sealed in the database,
// so that every server of the fleet, and every restart, orders through the
// same account.
func acmeIssuer(ctx context.Context, cfg config.Config, st *store.Store, box *secrets.Box) (*certs.Issuer, error) {
	var roots *x509.CertPool
	if cfg.ACMECACertFile != "" {
		var err error
		if roots, err = certs.CertPoolFromFile(cfg.ACMECACertFile); err != nil {
			return nil, fmt.Errorf("acme ca cert file: %w", err)
		}
	}
	newIssuer := func(key []byte) (*certs.Issuer, error) {
		return certs.NewIssuer(certs.Config{
			DirectoryURL: cfg.ACMEDirectoryURL, Email: cfg.ACMEEmail, CACertPool: roots, AccountKeyPEM: key,
		})
	}
	keyContext := store.ACMEAccountKeyContext(cfg.ACMEDirectoryURL)
	for range 2 {
		account, err := st.ACMEAccount(ctx, cfg.ACMEDirectoryURL)
		if err == nil {
			key, err := box.Open(account.KeySealed, keyContext)
			if err != nil {
				return nil, fmt.Errorf("acme account key: %w", err)
			}
			return newIssuer(key)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		issuer, err := newIssuer(nil)
		if err != nil {
			return nil, err
		}
		err = st.CreateACMEAccount(ctx, &store.ACMEAccount{
			DirectoryURL: cfg.ACMEDirectoryURL, KeySealed: box.Seal(issuer.AccountKeyPEM(), keyContext), CreatedAt: time.Now().UTC(),
		})
		if !errors.Is(err, store.ErrConflict) {
			return issuer, err
		}
		// Another server stored its key first: use that one.
	}
	return nil, errors.New("acme account: could not store or read the account key")
}

// buildSites assembles the site service, its operations and the periodic
// certificate renewal. Without an ACME directory, HTTPS sites need an
// uploaded certificate.
func (s *Server) buildSites(ctx context.Context) error {
	var issuer site.Issuer
	if s.Config.ACMEDirectoryURL != "" {
		acme, err := acmeIssuer(ctx, s.Config, s.Store, s.Box)
		if err != nil {
			return err
		}
		issuer = acme
	}
	s.Sites = site.New(site.Deps{Store: s.Store, Box: s.Box, Jobs: s.Jobs, Servers: s.VPS, Issuer: issuer, Log: s.Log})
	for _, h := range s.Sites.Handlers() {
		s.Jobs.Register(h)
	}
	s.Jobs.AddPeriodic("sites.certificates", renewInterval, s.Sites.RenewCertificates)
	return nil
}

// newUsage builds the usage reports; the package's name is taken here by
// the command-line usage text.
func newUsage(st *store.Store) *usagereport.Service { return usagereport.New(st) }
