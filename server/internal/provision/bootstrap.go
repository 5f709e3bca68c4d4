package provision

import (
	"bytes"
	"context"
	"fmt"
	"text/template"
)

// Where CHOM keeps its files on every server.
const (
	RootDir    = "/srv/chom"
	SitesDir   = RootDir + "/sites"
	BackupsDir = RootDir + "/backups"
	TmpDir     = RootDir + "/tmp"
	// NginxSitesDir holds one server block per site; NginxBaseConfig
	// includes it from nginx's http block (through conf.d).
	NginxSitesDir   = "/etc/nginx/chom.d"
	NginxBaseConfig = "/etc/nginx/conf.d/chom.conf"
)

// The software every server runs.
var (
	Nginx = Package{
		Name:    "nginx",
		Detect:  []string{"nginx", "nginx-core", "nginx-full", "nginx-light", "nginx-extras"},
		Install: []string{"nginx"},
	}
	PHPFPM = Package{
		Name:    "PHP-FPM",
		Detect:  []string{"php*-fpm"},
		Install: []string{"php-fpm"},
	}
	PHPCLI = Package{
		Name:    "the PHP command line",
		Detect:  []string{"php*-cli"},
		Install: []string{"php-cli"},
	}
	PHPMySQL = Package{
		Name:    "PHP's MySQL extension",
		Detect:  []string{"php*-mysql"},
		Install: []string{"php-mysql"},
	}
	DatabaseServer = Package{
		Name:    "a database server",
		Detect:  []string{"mariadb-server", "mariadb-server-*", "mysql-server", "mysql-server-*", "default-mysql-server"},
		Install: []string{"mariadb-server"},
	}
	DatabaseClient = Package{
		Name:    "a database client",
		Detect:  []string{"mariadb-client", "mariadb-client-*", "mysql-client", "mysql-client-*", "default-mysql-client"},
		Install: []string{"mariadb-client"},
	}
)

// Bootstrap returns, in order, the steps that make a Debian or Ubuntu
// server ready for sites. Software already present is detected, not
// reinstalled; on a bootstrapped server every step finds nothing to do.
func Bootstrap() []Step {
	return []Step{
		InstallPackage(Nginx),
		InstallPackage(PHPFPM),
		InstallPackage(PHPCLI),
		InstallPackage(PHPMySQL),
		InstallPackage(DatabaseServer),
		InstallPackage(DatabaseClient),
		Directories("create the CHOM directories",
			Dir{Path: RootDir, Mode: 0o755, Owner: "root", Group: "root"},
			Dir{Path: SitesDir, Mode: 0o755, Owner: "root", Group: "root"},
			Dir{Path: BackupsDir, Mode: 0o700, Owner: "root", Group: "root"},
			Dir{Path: TmpDir, Mode: 0o700, Owner: "root", Group: "root"},
			Dir{Path: NginxSitesDir, Mode: 0o755, Owner: "root", Group: "root"},
		),
		// Before the default server below, which would clash with the
		// distribution's own default_server.
		DisableNginxSite("default"),
		NginxConfig(NginxBaseConfig, renderBaseConfig),
		ServicesRunning(ServiceNginx, ServicePHPFPM, ServiceDatabase),
	}
}

var baseConfig = template.Must(template.ParseFS(files, "templates/chom.conf.tmpl"))

// renderBaseConfig listens on IPv6 only where the server has it: nginx
// refuses to start when it cannot bind an address.
func renderBaseConfig(ctx context.Context, h *Host) ([]byte, error) {
	ipv6, err := h.Test(ctx, "has_ipv6")
	if err != nil {
		return nil, fmt.Errorf("detect IPv6: %w", err)
	}
	var b bytes.Buffer
	if err := baseConfig.Execute(&b, struct{ IPv6 bool }{ipv6}); err != nil {
		return nil, fmt.Errorf("render %s: %w", NginxBaseConfig, err)
	}
	return b.Bytes(), nil
}
