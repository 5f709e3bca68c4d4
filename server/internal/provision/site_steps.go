package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/chomhq/chom/server/internal/sshx"
)

// The steps below make a server serve one site, and remove it again. Each
// takes what it needs already decided (names, secrets, certificate), so
// that the same inputs always converge to the same server state; the site
// package orders them into operations.

// SiteUser makes the site's system user exist, in its own group, with its
// home and no login shell.
func SiteUser(s Site) Step {
	return siteStep(s, Step{
		Name: "create the system user " + s.Name,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_user_check", s.Name, s.Home())
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_user_apply", nil, s.Name, s.Home())
			return err
		},
	})
}

// SiteDirectories makes the site's directories exist with their owners:
// the home may be entered by the site user and nginx (group www-data) only,
// so no other site's PHP can read the site's files.
func SiteDirectories(s Site) Step {
	dirs := []Dir{
		{Path: SiteCertsDir, Mode: 0o700, Owner: "root", Group: "root"},
		{Path: ACMEChallengeDir, Mode: 0o755, Owner: "root", Group: "root"},
		{Path: s.Home(), Mode: 0o750, Owner: s.Name, Group: "www-data"},
		{Path: s.TmpDir(), Mode: 0o700, Owner: s.Name, Group: s.Name},
		{Path: s.CertDir(), Mode: 0o700, Owner: "root", Group: "root"},
	}
	// A Laravel application directory is its git checkout.
	if s.Type != SiteLaravel {
		dirs = append(dirs, Dir{Path: s.AppDir(), Mode: 0o755, Owner: s.Name, Group: s.Name})
	}
	step := Directories("create the site's directories", dirs...)
	return siteStep(s, step)
}

// SitePool runs the site's PHP-FPM pool: its PHP runs as the site user and
// listens on a socket only nginx may use. A pool PHP-FPM rejects is rolled
// back, so the other sites' pools keep running.
func SitePool(s Site) Step {
	content, renderErr := RenderPool(s)
	sum := contentSum(content)
	return Step{
		Name: "run the PHP " + s.PHPVersion + " pool",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			if renderErr != nil {
				return false, renderErr
			}
			return h.Test(ctx, "site_fpm_check", s.Name, s.PHPVersion, sum)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_fpm_install", content, s.Name, s.PHPVersion, sum)
			return err
		},
	}
}

// SiteNginx installs the site's server block and reloads nginx. A block
// nginx -t rejects is rolled back before any reload, so nginx keeps serving
// every other site as before.
func SiteNginx(s Site) Step {
	step := NginxConfig(s.NginxFile(), func(ctx context.Context, h *Host) ([]byte, error) {
		ipv6, err := h.Test(ctx, "has_ipv6")
		if err != nil {
			return nil, fmt.Errorf("detect IPv6: %w", err)
		}
		return RenderNginx(s, ipv6)
	})
	step.Name = "serve " + s.Domain + " with nginx"
	if s.Suspended {
		step.Name = "serve the maintenance page of " + s.Domain
	}
	step.Apply = awaitReload(step.Apply)
	return siteStep(s, step)
}

// awaitReload makes apply, which reloads nginx, return only once nginx
// serves every new connection with the new configuration, so that what
// comes next (an ACME validation, a client) never meets an old worker.
func awaitReload(apply func(ctx context.Context, h *Host) error) func(ctx context.Context, h *Host) error {
	return func(ctx context.Context, h *Host) error {
		res, err := h.RunScript(ctx, "site_nginx_workers", nil)
		if err != nil {
			return err
		}
		if err := apply(ctx, h); err != nil {
			return err
		}
		_, err = h.RunScript(ctx, "site_nginx_await", nil, strings.Fields(res.Stdout)...)
		return err
	}
}

// SiteDatabase makes the site's database and its user exist, the user
// with db.Password. The password travels on stdin only.
func SiteDatabase(db Database) Step {
	err := db.Validate()
	return Step{
		Name: "create the database " + db.Name,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			if err != nil {
				return false, err
			}
			return testWithStdin(ctx, h, "site_db_check", []byte(db.Password), db.Name, db.User)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_db_apply", []byte(db.Password), db.Name, db.User)
			return err
		},
	}
}

// SitePlaceholder writes a page naming the domain into an html site's web
// root, unless the site has an index.html already: the user's own content
// is never overwritten.
func SitePlaceholder(s Site) Step {
	content, renderErr := RenderPlaceholder(s)
	index := s.AppDir() + "/index.html"
	return Step{
		Name: "write the placeholder page",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			if renderErr != nil {
				return false, renderErr
			}
			return h.Test(ctx, "site_exists", index)
		},
		Apply: func(ctx context.Context, h *Host) error {
			return installFile(ctx, h, index, 0o644, s.Name, s.Name, content)
		},
	}
}

// WordPressFiles copies WordPress from the server's Debian package into the
// web root; nothing is downloaded.
func WordPressFiles(s Site) Step {
	marker := s.Home() + "/.chom-wordpress-copied"
	return siteStep(s, Step{
		Name: "copy WordPress into the web root",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_wordpress_check", s.AppDir(), marker)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_wordpress_apply", nil, s.Name, s.AppDir(), marker)
			return err
		},
	})
}

// WordPressConfig writes wp-config.php with the database settings and the
// site's salts, readable by the site user only.
func WordPressConfig(s Site, db Database, salts map[string]string) Step {
	content, renderErr := RenderWordPressConfig(db, salts)
	return siteFile(s, "write wp-config.php", s.AppDir()+"/wp-config.php", 0o600, content, renderErr)
}

// GitCheckout makes the Laravel application directory a checkout of repo
// at branch (the repository's default branch when empty), cloned by the
// site user. A checkout of another repository or branch is replaced.
func GitCheckout(s Site, repo, branch string) Step {
	return siteStep(s, Step{
		Name: "clone " + repo,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_git_check", s.Name, s.AppDir(), repo, branch)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_git_clone", nil, s.Name, s.Home(), s.AppDir(), repo, branch)
			return err
		},
	})
}

// LaravelEnv writes the application's .env: the site's variables and the
// database settings, readable by the site user only.
func LaravelEnv(s Site, vars []Var, db Database) Step {
	content, renderErr := RenderEnv(vars, db)
	return siteFile(s, "write .env", s.AppDir()+"/.env", 0o600, content, renderErr)
}

// ComposerInstall installs the application's Composer dependencies
// (without development packages) when it has a composer.json.
func ComposerInstall(s Site) Step {
	return siteStep(s, Step{
		Name: "install the Composer dependencies",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_composer_check", s.AppDir())
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_composer_apply", nil, s.Name, s.Home(), s.AppDir())
			return err
		},
	})
}

// ArtisanMigrate runs the application's migrations (php artisan migrate
// --force) when it has an artisan, once per commit checked out.
func ArtisanMigrate(s Site) Step {
	marker := s.Home() + "/.chom-migrated"
	return siteStep(s, Step{
		Name: "run the database migrations",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_artisan_check", s.Name, s.AppDir(), marker)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_artisan_apply", nil, s.Name, s.Home(), s.AppDir(), marker)
			return err
		},
	})
}

// SiteCertificate deploys the site's certificate chain (leaf first) and
// private key where its server block expects them, and reloads nginx so
// that it serves them. The key is readable by root only, which nginx's
// master process is.
func SiteCertificate(s Site, fullChainPEM, keyPEM []byte) Step {
	chainFile, keyFile := s.CertDir()+"/fullchain.pem", s.CertDir()+"/key.pem"
	chainSum, keySum := contentSum(fullChainPEM), contentSum(keyPEM)
	return siteStep(s, Step{
		Name: "deploy the certificate",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			ok, err := h.Test(ctx, "site_file_check", keyFile, "600", "root", "root", keySum)
			if err != nil || !ok {
				return false, err
			}
			return h.Test(ctx, "site_file_check", chainFile, "644", "root", "root", chainSum)
		},
		Apply: awaitReload(func(ctx context.Context, h *Host) error {
			if err := installFile(ctx, h, keyFile, 0o600, "root", "root", keyPEM); err != nil {
				return err
			}
			if err := installFile(ctx, h, chainFile, 0o644, "root", "root", fullChainPEM); err != nil {
				return err
			}
			_, err := h.RunScript(ctx, "site_nginx_reload", nil)
			return err
		}),
	})
}

// RemoveSiteNginx removes the server block of the site called name and
// reloads nginx.
func RemoveSiteNginx(name string) Step {
	file := SiteNginxFile(name)
	return removal(name, Step{
		Name: "stop serving the site",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_absent", file)
		},
		Apply: awaitReload(func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_nginx_remove", nil, file)
			return err
		}),
	})
}

// RemoveSitePool removes the PHP-FPM pools of the site called name.
func RemoveSitePool(name string) Step {
	return removal(name, Step{
		Name: "remove the PHP-FPM pool",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_fpm_absent", name)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_fpm_remove", nil, name)
			return err
		},
	})
}

// DropSiteDatabase drops the database and the database user of the site
// called name (both are called name).
func DropSiteDatabase(name string) Step {
	return removal(name, Step{
		Name: "drop the database",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_db_absent", name, name)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_db_drop", nil, name, name)
			return err
		},
	})
}

// RemoveSiteUser removes the system user of the site called name with its
// processes, its files, its certificate and its logs.
func RemoveSiteUser(name string) Step {
	s := Site{Name: name}
	return removal(name, Step{
		Name: "remove the system user and the site's files",
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_user_absent", name, s.Home(), s.CertDir())
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "site_user_remove", nil, name, s.Home(), s.CertDir())
			return err
		},
	})
}

// siteStep refuses to touch the server for a site that does not validate.
func siteStep(s Site, step Step) Step {
	return guarded(step, s.Validate())
}

// removal refuses to touch the server for a name that is not a site's.
func removal(name string, step Step) Step {
	var err error
	if !siteNamePattern.MatchString(name) {
		err = fmt.Errorf("site name %q is not site<16 hex digits>", name)
	}
	return guarded(step, err)
}

// guarded makes step fail with err, when not nil, before it runs anything.
func guarded(step Step, err error) Step {
	if err == nil {
		return step
	}
	return Step{
		Name:  step.Name,
		Check: func(context.Context, *Host) (bool, error) { return false, err },
		Apply: func(context.Context, *Host) error { return err },
	}
}

// siteFile is a file of the site user, written by that user: content with
// mode, or renderErr when the content could not be made.
func siteFile(s Site, name, path string, mode fs.FileMode, content []byte, renderErr error) Step {
	if renderErr == nil {
		renderErr = s.Validate()
	}
	sum := contentSum(content)
	return guarded(Step{
		Name: name,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "site_file_check", path, octalMode(mode), s.Name, s.Name, sum)
		},
		Apply: func(ctx context.Context, h *Host) error {
			return installFile(ctx, h, path, mode, s.Name, s.Name, content)
		},
	}, renderErr)
}

// installFile writes content to path on the server, checked against its
// SHA-256 before it replaces what was there.
func installFile(ctx context.Context, h *Host, path string, mode fs.FileMode, owner, group string, content []byte) error {
	_, err := h.RunScript(ctx, "site_file_install", content, path, octalMode(mode), owner, group, contentSum(content))
	return err
}

// testWithStdin is Host.Test for a check script that reads a secret on
// stdin, where no other user of the server can see it.
func testWithStdin(ctx context.Context, h *Host, name string, stdin []byte, args ...string) (bool, error) {
	_, err := h.RunScript(ctx, name, stdin, args...)
	var exit *sshx.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.Status == 1 && exit.Signal == "":
		return false, nil
	}
	return false, err
}

func contentSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
