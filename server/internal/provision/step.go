package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
)

// Step is one idempotent change to a server.
type Step struct {
	// Name says what the step makes true, for the operation log.
	Name string
	// Check reports whether the server is already as the step wants it.
	Check func(ctx context.Context, h *Host) (bool, error)
	// Apply changes the server; it runs only when Check says no.
	Apply func(ctx context.Context, h *Host) error
}

// Ensure runs Check and, when the server is not as wanted yet, Apply and
// Check again. It reports whether it changed anything. An Apply that
// returns without error but leaves Check failing is an error, so that a
// broken step cannot pass unnoticed.
func (s Step) Ensure(ctx context.Context, h *Host) (changed bool, err error) {
	ok, err := s.Check(ctx, h)
	if err != nil {
		return false, fmt.Errorf("%s: check: %w", s.Name, err)
	}
	if ok {
		return false, nil
	}
	if err := s.Apply(ctx, h); err != nil {
		return true, fmt.Errorf("%s: %w", s.Name, err)
	}
	ok, err = s.Check(ctx, h)
	if err != nil {
		return true, fmt.Errorf("%s: check after applying: %w", s.Name, err)
	}
	if !ok {
		return true, fmt.Errorf("%s: %w", s.Name, errNotConverged)
	}
	return true, nil
}

var errNotConverged = errors.New("the change was applied but the server still does not match")

// Package is software a server needs, which distributions ship under
// several names.
type Package struct {
	// Name is what the logs call it.
	Name string
	// Detect lists dpkg-query patterns: an installed package matching any
	// of them satisfies the need, whatever installed it.
	Detect []string
	// Install is what apt-get installs when nothing matches.
	Install []string
}

// InstallPackage installs p with apt-get unless a package matching one of
// its Detect patterns is installed already.
func InstallPackage(p Package) Step {
	return Step{
		Name: "install " + p.Name,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "packages_check", p.Detect...)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "packages_install", nil, p.Install...)
			return err
		},
	}
}

// Dir is a directory a step creates.
type Dir struct {
	Path  string
	Mode  fs.FileMode // permission bits, plus setgid and sticky
	Owner string
	Group string
}

// Directories makes every directory exist with exactly its mode and owner.
func Directories(name string, dirs ...Dir) Step {
	args := make([]string, 0, 4*len(dirs))
	for _, d := range dirs {
		args = append(args, d.Path, octalMode(d.Mode), d.Owner, d.Group)
	}
	return Step{
		Name: name,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "dirs_check", args...)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "dirs_apply", nil, args...)
			return err
		},
	}
}

// octalMode renders m as stat -c %a prints it: no leading zero, special
// bits in front.
func octalMode(m fs.FileMode) string {
	bits := uint64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return strconv.FormatUint(bits, 8)
}

// Render produces a file's content, which may depend on the server.
type Render func(ctx context.Context, h *Host) ([]byte, error)

// NginxConfig installs the nginx configuration file at path (mode 0644)
// when its content differs, then reloads nginx. A configuration nginx -t
// rejects is rolled back and the step fails with nginx's message.
func NginxConfig(path string, render Render) Step {
	return Step{
		Name: "install " + path,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			content, err := render(ctx, h)
			if err != nil {
				return false, err
			}
			sum := sha256.Sum256(content)
			return h.Test(ctx, "file_check", path, hex.EncodeToString(sum[:]))
		},
		Apply: func(ctx context.Context, h *Host) error {
			content, err := render(ctx, h)
			if err != nil {
				return err
			}
			_, err = h.RunScript(ctx, "nginx_install", content, path)
			return err
		},
	}
}

// DisableNginxSite disables the site the distribution's nginx package
// enables under name (Debian's welcome page is "default"), which would
// otherwise claim the default server. A site of that name pointing
// elsewhere is the administrator's and is left alone.
func DisableNginxSite(name string) Step {
	return Step{
		Name: "disable the distribution's nginx site " + name,
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "nginx_site_check", name)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "nginx_site_disable", nil, name)
			return err
		},
	}
}

// Services names what ServicesRunning can start: nginx, php-fpm (every
// installed PHP version) and database (MariaDB or MySQL).
const (
	ServiceNginx    = "nginx"
	ServicePHPFPM   = "php-fpm"
	ServiceDatabase = "database"
)

// ServicesRunning makes the services run and start at boot, through
// systemd or the init scripts, whichever the server uses.
func ServicesRunning(services ...string) Step {
	return Step{
		Name: "run " + joinWords(services),
		Check: func(ctx context.Context, h *Host) (bool, error) {
			return h.Test(ctx, "services_check", services...)
		},
		Apply: func(ctx context.Context, h *Host) error {
			_, err := h.RunScript(ctx, "services_apply", nil, services...)
			return err
		},
	}
}

func joinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	out := words[0]
	for _, w := range words[1 : len(words)-1] {
		out += ", " + w
	}
	return out + " and " + words[len(words)-1]
}
