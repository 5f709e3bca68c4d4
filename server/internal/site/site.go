// Package site manages websites: static (html), WordPress and Laravel sites
// served by nginx and PHP-FPM on an organization's VPS, with a database and
// HTTPS where wanted. A mutation records what the user wants on the site's
// row and starts an operation whose idempotent steps make the server match
// it; the operation's end sets the site's status.
package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chomhq/chom/server/internal/certs"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Operation kinds this package runs. All but KindDelete make the server
// match the site's row; they differ in what started them.
const (
	KindCreate      = "site.create"
	KindUpdate      = "site.update"
	KindSuspend     = "site.suspend"
	KindResume      = "site.resume"
	KindCertificate = "site.certificate"
	KindDelete      = "site.delete"
	// TargetType is the operations' target type.
	TargetType = "site"
)

// Types lists the site types.
var Types = []string{provision.SiteHTML, provision.SiteWordPress, provision.SiteLaravel}

// Servers is what sites need of the VPS service: capacity, and the means
// to run commands on a server.
type Servers interface {
	Allocate(ctx context.Context, tx *store.Store, orgID string) (*store.VPS, error)
	Reserve(ctx context.Context, tx *store.Store, orgID, vpsID string) (*store.VPS, error)
	Release(ctx context.Context, tx *store.Store, orgID, vpsID string) error
	Host(ctx context.Context, orgID, vpsID string) (*provision.Host, error)
}

// Enqueuer starts operations inside the caller's transaction.
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *store.Store, in jobs.Input) (*store.Operation, error)
}

// Issuer obtains certificates through ACME.
type Issuer interface {
	Obtain(ctx context.Context, domains []string, solver certs.ChallengeSolver) (*certs.Certificate, error)
}

// Deps is what the service is built from.
type Deps struct {
	Store   *store.Store
	Box     *secrets.Box
	Jobs    Enqueuer
	Servers Servers
	// Issuer obtains certificates for HTTPS sites; without one, HTTPS
	// sites need a certificate uploaded by the user.
	Issuer Issuer
	Log    *slog.Logger
}

// Service applies the site rules.
type Service struct {
	Deps
	now func() time.Time
}

// New returns the site service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{Deps: d, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

var (
	errSiteNotFound = problem.NotFound("site")
	errBusy         = problem.Conflict("operation_in_progress", "an operation is working on the site; wait for it to finish")
	// errDryRun rolls back the transaction of a dry run.
	errDryRun = errors.New("dry run")
)

// Get returns one site of the organization.
func (s *Service) Get(ctx context.Context, orgID, id string) (*store.Site, error) {
	site, err := s.Store.Site(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSiteNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get site: %w", err)
	}
	return site, nil
}

// List returns the organization's sites, oldest first.
func (s *Service) List(ctx context.Context, orgID string, f store.SiteFilter, p store.Page) ([]store.Site, int64, error) {
	fields := problem.Fields{}
	if f.Status != "" {
		validate.OneOf(fields, "status", f.Status, store.SiteStatuses)
	}
	if f.Type != "" {
		validate.OneOf(fields, "type", f.Type, Types)
	}
	if f.Domain != "" {
		f.Domain = validate.Hostname(fields, "domain", f.Domain)
	}
	if err := fields.Err(); err != nil {
		return nil, 0, err
	}
	sites, total, err := s.Store.ListSites(ctx, orgID, f, p)
	if err != nil {
		return nil, 0, fmt.Errorf("list sites: %w", err)
	}
	return sites, total, nil
}

// DocumentRoot is the directory nginx serves the site from.
func DocumentRoot(site *store.Site) string { return spec(site).DocumentRoot() }

// spec is the server's view of a site as the row wants it.
func spec(site *store.Site) provision.Site {
	return provision.Site{
		Name: site.SystemUser, Type: site.Type, Domain: site.Domain, Aliases: site.Aliases,
		PHPVersion: site.PHPVersion, Suspended: site.Suspended,
		TLS: site.HTTPS && site.CertificateSealed != "",
	}
}

// runsPHP reports whether sites of the type run PHP.
func runsPHP(siteType string) bool { return (provision.Site{Type: siteType}).PHP() }

// HasDatabase reports whether the site's type comes with a database.
func HasDatabase(siteType string) bool { return siteType != provision.SiteHTML }
