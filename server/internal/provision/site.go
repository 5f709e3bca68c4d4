package provision

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Site types.
const (
	SiteHTML      = "html"
	SiteWordPress = "wordpress"
	SiteLaravel   = "laravel"
)

// Where sites' shared files live on every server.
const (
	// SiteCertsDir holds one directory of certificate and key per site,
	// readable by root (nginx's master) only.
	SiteCertsDir = RootDir + "/ssl"
	// ACMEChallengeDir holds the HTTP-01 answers every site serves at
	// /.well-known/acme-challenge/; the certs package's SSHSolver writes them.
	ACMEChallengeDir = RootDir + "/acme-challenge"
)

// Site is what a server needs to know to serve one site. Validate checks
// every field before anything is rendered from it or sent to a server.
type Site struct {
	// Name is the site's system user, and names its group, home, pool,
	// socket, nginx file, logs, database and database user. Derive it
	// from the site's id with SiteName.
	Name       string
	Type       string
	Domain     string
	Aliases    []string
	PHPVersion string // empty for html sites
	Suspended  bool
	// TLS serves HTTPS with the certificate deployed by SiteCertificate and
	// redirects HTTP to it.
	TLS bool
}

var (
	siteNamePattern   = regexp.MustCompile(`^site[0-9a-f]{16}$`)
	phpVersionPattern = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`)
	// hostnamePattern is a lower-case DNS name of at least two labels; the
	// site package normalises and explains, this only guards the templates.
	hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// SiteName derives the name of a site's system user (and everything else
// the site owns on its server) from the site's id: "site" and 16 hex
// digits, valid as a Linux user, a MariaDB database and a file name.
func SiteName(id string) (string, error) {
	hex := strings.ToLower(strings.ReplaceAll(id, "-", ""))
	if len(hex) < 16 {
		return "", fmt.Errorf("site id %q is too short to name a site", id)
	}
	name := "site" + hex[:16]
	if !siteNamePattern.MatchString(name) {
		return "", fmt.Errorf("site id %q is not hexadecimal", id)
	}
	return name, nil
}

// Validate checks every field, so that nothing unexpected reaches a
// template or a command line.
func (s Site) Validate() error {
	var errs []error
	if !siteNamePattern.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("site name %q is not site<16 hex digits>", s.Name))
	}
	if !slices.Contains([]string{SiteHTML, SiteWordPress, SiteLaravel}, s.Type) {
		errs = append(errs, fmt.Errorf("unknown site type %q", s.Type))
	}
	for _, h := range s.Names() {
		if len(h) > 253 || !hostnamePattern.MatchString(h) {
			errs = append(errs, fmt.Errorf("host name %q is not a lower-case DNS name", h))
		}
	}
	switch {
	case s.PHP() && !phpVersionPattern.MatchString(s.PHPVersion):
		errs = append(errs, fmt.Errorf("PHP version %q is not <major>.<minor>", s.PHPVersion))
	case !s.PHP() && s.PHPVersion != "":
		errs = append(errs, errors.New("an html site has no PHP version"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

// PHP reports whether the site runs PHP.
func (s Site) PHP() bool { return s.Type == SiteWordPress || s.Type == SiteLaravel }

// Names returns the domain and the aliases.
func (s Site) Names() []string { return append([]string{s.Domain}, s.Aliases...) }

// ServerNames is nginx's server_name list.
func (s Site) ServerNames() string { return strings.Join(s.Names(), " ") }

// Home is the site user's home, which holds everything of the site.
func (s Site) Home() string { return SitesDir + "/" + s.Name }

// AppDir holds the site's files: the web root of html and WordPress sites,
// the checkout of a Laravel application.
func (s Site) AppDir() string { return s.Home() + "/www" }

// DocumentRoot is the directory nginx serves.
func (s Site) DocumentRoot() string {
	if s.Type == SiteLaravel {
		return s.AppDir() + "/public"
	}
	return s.AppDir()
}

// TmpDir holds the site's PHP sessions and uploads in progress.
func (s Site) TmpDir() string { return s.Home() + "/tmp" }

// NginxFile is the site's server block.
func (s Site) NginxFile() string { return SiteNginxFile(s.Name) }

// PoolFile is the site's PHP-FPM pool.
func (s Site) PoolFile() string {
	return "/etc/php/" + s.PHPVersion + "/fpm/pool.d/" + s.Name + ".conf"
}

// Socket is the site's PHP-FPM socket.
func (s Site) Socket() string { return "/run/php/" + s.Name + ".sock" }

// CertDir holds the site's certificate chain and key.
func (s Site) CertDir() string { return SiteCertsDir + "/" + s.Name }

// ACMEDir is where HTTP-01 answers are served from.
func (Site) ACMEDir() string { return ACMEChallengeDir }

// SiteNginxFile is the server block of the site called name.
func SiteNginxFile(name string) string { return NginxSitesDir + "/" + name + ".conf" }

// Database is a site's MariaDB database and the user that owns it. Name and
// User come from SiteName; Password is alphanumeric (NewDatabasePassword).
type Database struct {
	Name     string
	User     string
	Password string
}

var dbPasswordPattern = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)

// Validate checks the names and the password, which the scripts put in SQL
// without quoting.
func (d Database) Validate() error {
	if !siteNamePattern.MatchString(d.Name) || !siteNamePattern.MatchString(d.User) {
		return fmt.Errorf("database: name %q or user %q is not site<16 hex digits>", d.Name, d.User)
	}
	if !dbPasswordPattern.MatchString(d.Password) {
		return errors.New("database: the password must be 16 to 128 letters and digits")
	}
	return nil
}
