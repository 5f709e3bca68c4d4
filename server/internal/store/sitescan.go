package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// siteColumns are the sites table's columns in the order scanSite reads
// them. Reading sites is the API's hottest path, so rows are scanned by
// hand instead of by GORM's reflection, which cost a page of sites a fifth
// of its allocations; TestScanSiteMatchesModel keeps the two readings equal.
const siteColumns = `sites.id, sites.organization_id, sites.vps_id, sites.domain, sites.aliases, sites.type,
sites.php_version, sites.git_repository, sites.git_branch, sites.environment_sealed, sites.https, sites.suspended,
sites.status, sites.system_user, sites.database_name, sites.database_user, sites.database_password_sealed,
sites.app_secrets_sealed, sites.certificate_source, sites.certificate_sealed, sites.certificate_issuer,
sites.certificate_domains, sites.certificate_not_before, sites.certificate_not_after, sites.certificate_error,
sites.created_at, sites.updated_at`

// selectSiteColumns selects siteColumns as written, sparing GORM parsing
// and quoting them on every query.
var selectSiteColumns = clause.Select{Expression: clause.Expr{SQL: siteColumns}}

// scanSite reads one row of siteColumns.
func scanSite(rows *sql.Rows, s *Site) error {
	var aliases, certificateDomains string
	var notBefore, notAfter sql.NullTime
	if err := rows.Scan(&s.ID, &s.OrganizationID, &s.VPSID, &s.Domain, &aliases, &s.Type, &s.PHPVersion,
		&s.GitRepository, &s.GitBranch, &s.EnvironmentSealed, &s.HTTPS, &s.Suspended, &s.Status, &s.SystemUser,
		&s.DatabaseName, &s.DatabaseUser, &s.DatabasePasswordSealed, &s.AppSecretsSealed, &s.CertificateSource,
		&s.CertificateSealed, &s.CertificateIssuer, &certificateDomains, &notBefore, &notAfter, &s.CertificateError,
		&s.CreatedAt, &s.UpdatedAt); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(aliases), &s.Aliases); err != nil {
		return fmt.Errorf("site %s aliases: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(certificateDomains), &s.CertificateDomains); err != nil {
		return fmt.Errorf("site %s certificate domains: %w", s.ID, err)
	}
	s.CertificateNotBefore, s.CertificateNotAfter = nullTime(notBefore), nullTime(notAfter)
	return nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// findSites runs q (a query on the sites model) for siteColumns and scans
// every row, appending to out.
func findSites(q *gorm.DB, out []Site) ([]Site, error) {
	rows, err := q.Clauses(selectSiteColumns).Rows()
	if err != nil {
		return out, err
	}
	return scanSites(rows, out)
}

// scanSites reads every row of siteColumns, appending to out, and closes
// rows.
func scanSites(rows *sql.Rows, out []Site) ([]Site, error) {
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		out = append(out, Site{})
		if err := scanSite(rows, &out[len(out)-1]); err != nil {
			return out[:len(out)-1], err
		}
	}
	return out, rows.Err()
}

// siteByID is the query of Store.Site for each dialect. It is sent to the
// connection as is: every authenticated read of a site runs it, and
// building it anew each time costs as much as scanning by reflection.
var siteByID = map[Dialect]string{
	SQLite:   "SELECT " + siteColumns + " FROM sites WHERE organization_id = ? AND id = ? LIMIT 1",
	Postgres: "SELECT " + siteColumns + " FROM sites WHERE organization_id = $1 AND id = $2 LIMIT 1",
}
