package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Site statuses. Provisioning and deleting have an operation under way;
// suspended serves a maintenance page; failed needs the user (its last
// operation failed: an update retries, a delete cleans up).
const (
	SiteProvisioning = "provisioning"
	SiteActive       = "active"
	SiteSuspended    = "suspended"
	SiteFailed       = "failed"
	SiteDeleting     = "deleting"
)

// SiteStatuses lists every status, for validating filters.
var SiteStatuses = []string{SiteProvisioning, SiteActive, SiteSuspended, SiteFailed, SiteDeleting}

// SiteIdle lists the statuses in which no operation works on a site, the
// only ones from which a new operation may start.
var SiteIdle = []string{SiteActive, SiteSuspended, SiteFailed}

// Certificate sources: issued through ACME, or uploaded by the user.
const (
	CertificateACME = "acme"
	CertificateUser = "user"
)

// Site is a website on one VPS.
type Site struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	VPSID          string `gorm:"column:vps_id"`
	Domain         string
	Aliases        []string `gorm:"serializer:json"`
	Type           string
	PHPVersion     string `gorm:"column:php_version"`
	GitRepository  string
	GitBranch      string
	// EnvironmentSealed is the JSON object of a Laravel site's variables,
	// sealed with SiteSecretContext(ID, "environment").
	EnvironmentSealed string
	HTTPS             bool `gorm:"column:https"`
	// Suspended is what the user asked for; Status says whether the
	// server does it yet.
	Suspended    bool
	Status       string
	SystemUser   string
	DatabaseName string
	DatabaseUser string
	// DatabasePasswordSealed is sealed with SiteSecretContext(ID, "db_password").
	DatabasePasswordSealed string
	// AppSecretsSealed holds secrets the application's configuration
	// needs (WordPress salts, Laravel's APP_KEY), sealed with
	// SiteSecretContext(ID, "app_secrets").
	AppSecretsSealed string
	// CertificateSource is "" until a certificate is stored.
	CertificateSource string
	// CertificateSealed holds the PEM chain and key, sealed with
	// SiteSecretContext(ID, "certificate").
	CertificateSealed    string
	CertificateIssuer    string
	CertificateDomains   []string `gorm:"serializer:json"`
	CertificateNotBefore *time.Time
	CertificateNotAfter  *time.Time
	// CertificateError is why the last issuance failed; cleared by the next
	// success.
	CertificateError string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Names returns every host name the site answers to, the domain first.
func (s *Site) Names() []string { return append([]string{s.Domain}, s.Aliases...) }

// SiteSecretContext binds a sealed secret of a site to its row.
func SiteSecretContext(id, name string) string { return "site/" + id + "/" + name }

// siteDomain reserves one host name for one site platform-wide.
type siteDomain struct {
	Name           string `gorm:"primaryKey"`
	SiteID         string
	OrganizationID string
}

func (siteDomain) TableName() string { return "site_domains" }

// SiteFilter narrows a list of sites; empty fields match all.
type SiteFilter struct {
	Status string
	Type   string
	VPSID  string
	// Domain matches a site's domain or one of its aliases.
	Domain string
}

// SiteUpdate holds the changes of one mutation; nil fields stay as they are.
type SiteUpdate struct {
	PHPVersion        *string
	GitRepository     *string
	GitBranch         *string
	EnvironmentSealed *string
	HTTPS             *bool
	Suspended         *bool
	Status            *string
	// CertificateSource, when set, replaces every certificate column with
	// those of Certificate ("" clears the certificate).
	CertificateSource *string
	Certificate       SiteCertificate
	CertificateError  *string
}

// SiteCertificate is a stored certificate's columns.
type SiteCertificate struct {
	Sealed    string
	Issuer    string
	Domains   []string
	NotBefore *time.Time
	NotAfter  *time.Time
}

// CreateSite inserts a site and reserves its domain and aliases. A name
// another site holds is ErrConflict; so is a system user already used on
// the VPS.
func (s *Store) CreateSite(ctx context.Context, site *Site) error {
	if site.Aliases == nil {
		site.Aliases = []string{}
	}
	if site.CertificateDomains == nil {
		site.CertificateDomains = []string{}
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			return createSitePostgres(tx, site)
		}
		if err := tx.Create(site).Error; err != nil {
			return err
		}
		return insertSiteDomains(tx, site.OrganizationID, site.ID, site.Names())
	})
	if err := translate(err); err != nil {
		return fmt.Errorf("create site: %w", err)
	}
	return nil
}

// createSitePostgres inserts the site and its names in one statement (one
// round trip to the server instead of two: a creation is a dozen of them).
// The site's INSERT is GORM's own, with its placeholders; the names follow
// in a data-modifying WITH, whose row the names' foreign key sees.
func createSitePostgres(tx *gorm.DB, site *Site) error {
	stmt := tx.Session(&gorm.Session{DryRun: true}).Create(site).Statement
	if stmt.Error != nil {
		return stmt.Error
	}
	n := len(stmt.Vars)
	q := fmt.Sprintf("WITH site AS (%s) INSERT INTO site_domains (name, site_id, organization_id) "+
		"SELECT name, $%d, $%d FROM unnest($%d::text[]) AS name", stmt.SQL.String(), n+1, n+2, n+3)
	args := append(stmt.Vars, site.ID, site.OrganizationID, site.Names())
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, q, args...)
	return err
}

func insertSiteDomains(tx *gorm.DB, orgID, siteID string, names []string) error {
	rows := make([]siteDomain, 0, len(names))
	for _, n := range names {
		rows = append(rows, siteDomain{Name: n, SiteID: siteID, OrganizationID: orgID})
	}
	return tx.Create(&rows).Error
}

// Site returns one site of the organization.
func (s *Store) Site(ctx context.Context, orgID, id string) (*Site, error) {
	rows, err := s.db.Statement.ConnPool.QueryContext(ctx, siteByID[s.dialect], orgID, id)
	if err != nil {
		return nil, fmt.Errorf("get site: %w", translate(err))
	}
	sites, err := scanSites(rows, make([]Site, 0, 1))
	if err != nil {
		return nil, fmt.Errorf("get site: %w", translate(err))
	}
	if len(sites) == 0 {
		return nil, fmt.Errorf("get site: %w", ErrNotFound)
	}
	return &sites[0], nil
}

// ListSites returns the organization's sites, oldest first.
func (s *Store) ListSites(ctx context.Context, orgID string, f SiteFilter, p Page) ([]Site, int64, error) {
	q := s.conn(ctx).Model(&Site{}).Where("organization_id = ?", orgID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.VPSID != "" {
		q = q.Where("vps_id = ?", f.VPSID)
	}
	if f.Domain != "" {
		q = q.Where("id IN (?)", s.conn(ctx).Model(&siteDomain{}).Select("site_id").
			Where("organization_id = ? AND name = ?", orgID, f.Domain))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list sites: %w", err)
	}
	out, err := findSites(q.Order("created_at, id").Limit(p.Limit).Offset(p.Offset), make([]Site, 0, min(p.Limit, int(total))))
	if err != nil {
		return nil, 0, fmt.Errorf("list sites: %w", translate(err))
	}
	return out, total, nil
}

// CountSites counts the organization's sites, for its quota. Sites being
// deleted still count: their files and database are still on the server.
func (s *Store) CountSites(ctx context.Context, orgID string) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&Site{}).Where("organization_id = ?", orgID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count sites: %w", err)
	}
	return n, nil
}

// CountSitesByStatus counts the organization's sites in each status.
func (s *Store) CountSitesByStatus(ctx context.Context, orgID string) (map[string]int64, error) {
	return countByStatus(s.conn(ctx).Model(&Site{}).Where("organization_id = ?", orgID), "count sites")
}

// TakenSiteDomains returns which of names a site other than exceptSiteID
// already answers to. Host names are unique across the platform, so this is
// the one site query that looks past the tenant; it returns the names only,
// never whose they are.
func (s *Store) TakenSiteDomains(ctx context.Context, names []string, exceptSiteID string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var taken []string
	err := s.conn(ctx).Model(&siteDomain{}).Where("name IN ? AND site_id <> ?", names, exceptSiteID).
		Order("name").Pluck("name", &taken).Error
	if err != nil {
		return nil, fmt.Errorf("check site domains: %w", err)
	}
	return taken, nil
}

// UpdateSite applies u to a site of the organization, but only while the
// site's status is one of from (any status when from is empty): of two
// concurrent mutations of a site, one wins and the other gets ErrConflict.
// A missing site is ErrNotFound.
func (s *Store) UpdateSite(ctx context.Context, orgID, id string, from []string, u SiteUpdate) error {
	values := map[string]any{"updated_at": s.db.NowFunc()}
	setIf(values, "php_version", u.PHPVersion)
	setIf(values, "git_repository", u.GitRepository)
	setIf(values, "git_branch", u.GitBranch)
	setIf(values, "environment_sealed", u.EnvironmentSealed)
	setIf(values, "https", u.HTTPS)
	setIf(values, "suspended", u.Suspended)
	setIf(values, "status", u.Status)
	setIf(values, "certificate_error", u.CertificateError)
	if u.CertificateSource != nil {
		c := u.Certificate
		if c.Domains == nil {
			c.Domains = []string{}
		}
		values["certificate_source"] = *u.CertificateSource
		values["certificate_sealed"] = c.Sealed
		values["certificate_issuer"] = c.Issuer
		values["certificate_domains"] = jsonString(c.Domains)
		values["certificate_not_before"] = utcPtr(c.NotBefore)
		values["certificate_not_after"] = utcPtr(c.NotAfter)
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&Site{}).Where("organization_id = ? AND id = ?", orgID, id)
		if len(from) > 0 {
			q = q.Where("status IN ?", from)
		}
		res := q.Updates(values)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&Site{}).Where("organization_id = ? AND id = ?", orgID, id).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return ErrNotFound
			}
			return ErrConflict
		}
		return nil
	})
	if err := translate(err); err != nil {
		return fmt.Errorf("update site: %w", err)
	}
	return nil
}

// SetSiteAliases replaces a site's aliases and their reservations. An
// alias another site holds is ErrConflict.
func (s *Store) SetSiteAliases(ctx context.Context, orgID, id string, aliases []string) error {
	if aliases == nil {
		aliases = []string{}
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var site Site
		if err := tx.Select("id", "domain").Where("organization_id = ? AND id = ?", orgID, id).Take(&site).Error; err != nil {
			return err
		}
		site.Aliases = aliases
		res := tx.Model(&Site{}).Where("organization_id = ? AND id = ?", orgID, id).
			Updates(map[string]any{"aliases": jsonString(aliases), "updated_at": s.db.NowFunc()})
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Where("organization_id = ? AND site_id = ?", orgID, id).Delete(&siteDomain{}).Error; err != nil {
			return err
		}
		return insertSiteDomains(tx, orgID, id, site.Names())
	})
	if err := translate(err); err != nil {
		return fmt.Errorf("set site aliases: %w", err)
	}
	return nil
}

// DeleteSite removes a site and frees its host names.
func (s *Store) DeleteSite(ctx context.Context, orgID, id string) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("organization_id = ? AND site_id = ?", orgID, id).Delete(&siteDomain{}).Error; err != nil {
			return err
		}
		res := tx.Where("organization_id = ? AND id = ?", orgID, id).Delete(&Site{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err := translate(err); err != nil {
		return fmt.Errorf("delete site: %w", err)
	}
	return nil
}

// SitesWithCertificateBefore returns sites of every organization that serve
// HTTPS with an ACME certificate expiring before the given time, and are
// idle, soonest first. Like VPSToCheck it looks past the tenant, for the
// periodic renewal; each row carries its organization and everything done
// with it afterwards is scoped again.
func (s *Store) SitesWithCertificateBefore(ctx context.Context, before time.Time, limit int) ([]Site, error) {
	var out []Site
	err := s.conn(ctx).
		Where("https AND certificate_source = ? AND certificate_not_after < ? AND status IN ?",
			CertificateACME, before.UTC(), []string{SiteActive, SiteSuspended}).
		Order("certificate_not_after, id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list sites to renew: %w", err)
	}
	return out, nil
}

func setIf[T any](values map[string]any, col string, v *T) {
	if v != nil {
		values[col] = *v
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// jsonString encodes a list of names for a JSON text column; a list of
// strings always encodes.
func jsonString(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
