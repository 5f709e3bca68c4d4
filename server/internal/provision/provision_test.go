package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/chomhq/chom/server/internal/sshx"
)

// fakeServer plays a server for the scripts: it keeps the state the
// scripts inspect and change, and answers each script as the real one
// would. It identifies a script by its exact embedded text, so a command
// built any other way is an error.
type fakeServer struct {
	t        *testing.T
	packages map[string]bool   // installed packages
	dirs     map[string]string // path → "mode owner group"
	files    map[string]string // path → content
	sites    map[string]bool   // distribution sites enabled
	running  map[string]bool   // services running and enabled
	ipv6     bool
	// nginxRejects makes nginx -t fail.
	nginxRejects bool

	targets  []sshx.Target
	scripts  []string   // names of the scripts run, in order
	installs [][]string // arguments of every packages_install
	sudo     int        // commands run through sudo
}

func newFakeServer(t *testing.T) *fakeServer {
	return &fakeServer{
		t: t, packages: map[string]bool{}, dirs: map[string]string{}, files: map[string]string{},
		sites: map[string]bool{"default": true}, running: map[string]bool{}, ipv6: true,
	}
}

var scriptNames = func() map[string]string {
	entries, err := fs.Glob(files, "scripts/*.sh")
	if err != nil {
		panic(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		name := strings.TrimSuffix(path.Base(e), ".sh")
		if name == "lib" {
			continue
		}
		body, err := script(name)
		if err != nil {
			panic(err)
		}
		out[body] = name
	}
	return out
}()

var errExit1 = &sshx.ExitError{Status: 1}

func (f *fakeServer) Run(_ context.Context, t sshx.Target, cmd sshx.Command) (sshx.Result, error) {
	f.targets = append(f.targets, t)
	args := cmd.Args
	if len(args) > 3 && args[0] == "sudo" && args[1] == "-n" && args[2] == "--" {
		f.sudo++
		args = args[3:]
	}
	if len(args) < 4 || args[0] != "sh" || args[1] != "-c" || args[3] != "sh" {
		f.t.Fatalf("not a script invocation: %q", args)
	}
	name, ok := scriptNames[args[2]]
	if !ok {
		f.t.Fatalf("unknown script body")
	}
	f.scripts = append(f.scripts, name)
	params := args[4:]
	ok, out, err := f.answer(name, params, cmd)
	if err != nil {
		return sshx.Result{}, err
	}
	if !ok {
		return sshx.Result{}, errExit1
	}
	return sshx.Result{Stdout: out}, nil
}

// answer reports the script's success, its stdout, or a hard error.
func (f *fakeServer) answer(name string, params []string, cmd sshx.Command) (bool, string, error) {
	switch name {
	case "has_ipv6":
		return f.ipv6, "", nil
	case "packages_check":
		for pattern := range f.packages {
			for _, p := range params {
				if m, _ := path.Match(p, pattern); m {
					return true, "", nil
				}
			}
		}
		return false, "", nil
	case "packages_install":
		f.installs = append(f.installs, params)
		for _, p := range params {
			f.packages[p] = true
		}
		return true, "", nil
	case "dirs_check":
		for i := 0; i+3 < len(params); i += 4 {
			if f.dirs[params[i]] != strings.Join(params[i+1:i+4], " ") {
				return false, "", nil
			}
		}
		return true, "", nil
	case "dirs_apply":
		for i := 0; i+3 < len(params); i += 4 {
			f.dirs[params[i]] = strings.Join(params[i+1:i+4], " ")
		}
		return true, "", nil
	case "file_check":
		content, ok := f.files[params[0]]
		return ok && sha256Hex(content) == params[1], "", nil
	case "nginx_install":
		if f.nginxRejects {
			return false, "", &sshx.ExitError{Status: 1, Stderr: "nginx rejected the configuration"}
		}
		b, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return false, "", err
		}
		f.files[params[0]] = string(b)
		return true, "", nil
	case "nginx_site_check":
		return !f.sites[params[0]], "", nil
	case "nginx_site_disable":
		delete(f.sites, params[0])
		return true, "", nil
	case "services_check":
		for _, s := range params {
			if !f.running[s] {
				return false, "", nil
			}
		}
		return true, "", nil
	case "services_apply":
		for _, s := range params {
			f.running[s] = true
		}
		return true, "", nil
	}
	return false, "", fmt.Errorf("the fake server does not know script %s", name)
}

func (f *fakeServer) host() *Host {
	return &Host{Runner: f, Target: sshx.Target{Host: "192.0.2.10", User: "root"}}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func runBootstrap(t *testing.T, h *Host) (changed []string) {
	t.Helper()
	for _, s := range Bootstrap() {
		did, err := s.Ensure(context.Background(), h)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if did {
			changed = append(changed, s.Name)
		}
	}
	return changed
}

func TestBootstrapFreshServerThenNothingToDo(t *testing.T) {
	srv := newFakeServer(t)
	h := srv.host()

	changed := runBootstrap(t, h)
	if len(changed) != len(Bootstrap()) {
		t.Fatalf("a fresh server changed in %d of %d steps: %q", len(changed), len(Bootstrap()), changed)
	}
	wantInstalls := [][]string{{"nginx"}, {"php-fpm"}, {"php-cli"}, {"php-mysql"}, {"mariadb-server"}, {"mariadb-client"}}
	if !slices.EqualFunc(srv.installs, wantInstalls, slices.Equal) {
		t.Fatalf("installs %q, want %q", srv.installs, wantInstalls)
	}
	if srv.sites["default"] {
		t.Fatal("the distribution's default site is still enabled")
	}
	conf := srv.files[NginxBaseConfig]
	for _, want := range []string{"include /etc/nginx/chom.d/*.conf;", "listen 80 default_server;", "listen [::]:80 default_server;", "return 404;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("%s lacks %q:\n%s", NginxBaseConfig, want, conf)
		}
	}
	if got := srv.dirs[BackupsDir]; got != "700 root root" {
		t.Errorf("%s: %q", BackupsDir, got)
	}

	// The second run only looks.
	srv.scripts, srv.installs = nil, nil
	if changed := runBootstrap(t, h); len(changed) != 0 {
		t.Fatalf("a bootstrapped server changed again: %q", changed)
	}
	for _, s := range srv.scripts {
		if !slices.Contains([]string{"packages_check", "dirs_check", "nginx_site_check", "file_check", "has_ipv6", "services_check"}, s) {
			t.Errorf("the second run ran %s, which changes the server", s)
		}
	}
}

func TestBootstrapDetectsExistingSoftware(t *testing.T) {
	srv := newFakeServer(t)
	// A server that runs PHP 8.3 from another repository and MySQL.
	for _, p := range []string{"nginx-full", "php8.3-fpm", "php8.3-cli", "php8.3-mysql", "mysql-server-8.0", "mysql-client-8.0"} {
		srv.packages[p] = true
	}
	runBootstrap(t, srv.host())
	if len(srv.installs) != 0 {
		t.Fatalf("installed %q although every package was present", srv.installs)
	}
}

func TestBootstrapWithoutIPv6(t *testing.T) {
	srv := newFakeServer(t)
	srv.ipv6 = false
	runBootstrap(t, srv.host())
	conf := srv.files[NginxBaseConfig]
	if strings.Contains(conf, "[::]") || !strings.Contains(conf, "listen 80 default_server;") {
		t.Fatalf("configuration for an IPv4-only server:\n%s", conf)
	}
}

func TestBootstrapReportsRejectedNginxConfig(t *testing.T) {
	srv := newFakeServer(t)
	srv.nginxRejects = true
	var err error
	for _, s := range Bootstrap() {
		if _, err = s.Ensure(context.Background(), srv.host()); err != nil {
			break
		}
	}
	var exit *sshx.ExitError
	if !errors.As(err, &exit) || !strings.Contains(err.Error(), "install "+NginxBaseConfig) {
		t.Fatalf("error %v, want the nginx step's exit error", err)
	}
}

func TestEnsure(t *testing.T) {
	hard := errors.New("connection lost")
	tests := []struct {
		name        string
		checks      []any // bool or error, one per Check call
		applyErr    error
		wantChanged bool
		wantApply   bool
		wantErr     error
	}{
		{name: "already done", checks: []any{true}},
		{name: "applied", checks: []any{false, true}, wantApply: true, wantChanged: true},
		{name: "applied without effect", checks: []any{false, false}, wantApply: true, wantChanged: true, wantErr: errNotConverged},
		{name: "check fails", checks: []any{hard}, wantErr: hard},
		{name: "apply fails", checks: []any{false}, applyErr: hard, wantApply: true, wantChanged: true, wantErr: hard},
		{name: "check after apply fails", checks: []any{false, hard}, wantApply: true, wantChanged: true, wantErr: hard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, applied int
			s := Step{
				Name: "thing",
				Check: func(context.Context, *Host) (bool, error) {
					if calls >= len(tt.checks) {
						t.Fatalf("check called %d times", calls+1)
					}
					c := tt.checks[calls]
					calls++
					if err, ok := c.(error); ok {
						return false, err
					}
					return c.(bool), nil
				},
				Apply: func(context.Context, *Host) error { applied++; return tt.applyErr },
			}
			changed, err := s.Ensure(context.Background(), &Host{})
			if changed != tt.wantChanged || (applied == 1) != tt.wantApply || applied > 1 {
				t.Errorf("changed %v applied %d times", changed, applied)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "thing: ") {
				t.Errorf("error %q does not name the step", err)
			}
		})
	}
}

func TestHostUsesSudoForOtherUsers(t *testing.T) {
	for _, tt := range []struct {
		user     string
		wantSudo int
	}{{"root", 0}, {"deploy", 1}} {
		srv := newFakeServer(t)
		h := &Host{Runner: srv, Target: sshx.Target{Host: "192.0.2.10", User: tt.user}}
		if _, err := h.Test(context.Background(), "has_ipv6"); err != nil {
			t.Fatal(err)
		}
		if srv.sudo != tt.wantSudo {
			t.Errorf("user %s: %d commands through sudo, want %d", tt.user, srv.sudo, tt.wantSudo)
		}
	}
}

func TestTestClassifiesExitStatus(t *testing.T) {
	tests := []struct {
		err     error
		want    bool
		wantErr bool
	}{
		{err: nil, want: true},
		{err: &sshx.ExitError{Status: 1}, want: false},
		{err: &sshx.ExitError{Status: 2}, wantErr: true},
		{err: &sshx.ExitError{Status: 1, Signal: "KILL"}, wantErr: true},
		{err: sshx.ErrUnreachable, wantErr: true},
	}
	for _, tt := range tests {
		h := &Host{Runner: runnerFunc(func(context.Context, sshx.Target, sshx.Command) (sshx.Result, error) {
			return sshx.Result{}, tt.err
		}), Target: sshx.Target{User: "root"}}
		got, err := h.Test(context.Background(), "has_ipv6")
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%v: got %v, %v", tt.err, got, err)
		}
	}
}

type runnerFunc func(context.Context, sshx.Target, sshx.Command) (sshx.Result, error)

func (f runnerFunc) Run(ctx context.Context, t sshx.Target, c sshx.Command) (sshx.Result, error) {
	return f(ctx, t, c)
}

func TestDirectoriesArguments(t *testing.T) {
	srv := newFakeServer(t)
	step := Directories("dirs",
		Dir{Path: "/srv/x", Mode: 0o750, Owner: "www-data", Group: "www-data"},
		Dir{Path: "/srv/y", Mode: 0o770 | fs.ModeSetgid | fs.ModeSticky, Owner: "root", Group: "adm"},
	)
	if _, err := step.Ensure(context.Background(), srv.host()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/srv/x": "750 www-data www-data", "/srv/y": "3770 root adm"}
	if !maps.Equal(srv.dirs, want) {
		t.Fatalf("dirs %v, want %v", srv.dirs, want)
	}
}
