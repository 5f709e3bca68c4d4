package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/chomhq/chom/server/internal/sshx"
)

// siteServer plays a server for the site scripts: it keeps the state they
// inspect and change (users, directories, files, pools, databases,
// checkouts) and answers each script as the real one would.
type siteServer struct {
	t       *testing.T
	users   map[string]string // name → home
	dirs    map[string]string // path → "mode owner group"
	files   map[string]string // path → "mode owner group sha256"
	nginx   map[string]string // path → content
	pools   map[string]string // site → "version sum"
	dbs     map[string]string // database → password
	gits    map[string]string // app dir → "url#branch"
	vendors map[string]bool   // app dirs with Composer dependencies
	// failOnce makes the named script fail once as if the connection
	// dropped after it ran halfway.
	failOnce map[string]bool

	scripts  []string
	commands []sshx.Command
}

func newSiteServer(t *testing.T) *siteServer {
	return &siteServer{
		t: t, users: map[string]string{}, dirs: map[string]string{}, files: map[string]string{},
		nginx: map[string]string{}, pools: map[string]string{}, dbs: map[string]string{},
		gits: map[string]string{}, vendors: map[string]bool{}, failOnce: map[string]bool{},
	}
}

func (f *siteServer) host() *Host {
	return &Host{Runner: f, Target: sshx.Target{Host: "192.0.2.10", User: "root"}}
}

func (f *siteServer) Run(_ context.Context, _ sshx.Target, cmd sshx.Command) (sshx.Result, error) {
	args := cmd.Args
	if len(args) < 4 || args[0] != "sh" || args[1] != "-c" || args[3] != "sh" {
		f.t.Fatalf("not a script invocation: %q", args)
	}
	name, ok := scriptNames[args[2]]
	if !ok {
		f.t.Fatalf("unknown script body")
	}
	f.scripts = append(f.scripts, name)
	f.commands = append(f.commands, cmd)
	var stdin string
	if cmd.Stdin != nil {
		b, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return sshx.Result{}, err
		}
		stdin = string(b)
	}
	ok, err := f.answer(name, args[4:], stdin)
	if err != nil {
		return sshx.Result{}, err
	}
	if f.failOnce[name] {
		delete(f.failOnce, name)
		return sshx.Result{}, fmt.Errorf("run %s: %w", name, sshx.ErrConnectionLost)
	}
	if !ok {
		return sshx.Result{}, errExit1
	}
	return sshx.Result{}, nil
}

func (f *siteServer) answer(name string, p []string, stdin string) (bool, error) {
	switch name {
	case "has_ipv6", "site_nginx_workers", "site_nginx_await", "site_nginx_reload":
		return true, nil
	case "site_user_check":
		return f.users[p[0]] == p[1], nil
	case "site_user_apply":
		f.users[p[0]] = p[1]
	case "dirs_check":
		for i := 0; i+3 < len(p); i += 4 {
			if f.dirs[p[i]] != strings.Join(p[i+1:i+4], " ") {
				return false, nil
			}
		}
	case "dirs_apply":
		for i := 0; i+3 < len(p); i += 4 {
			f.dirs[p[i]] = strings.Join(p[i+1:i+4], " ")
		}
	case "site_fpm_check":
		return f.pools[p[0]] == p[1]+" "+p[2], nil
	case "site_fpm_install":
		if sha256Hex(stdin) != p[2] {
			return false, errors.New("pool content does not match its sum")
		}
		f.pools[p[0]] = p[1] + " " + p[2]
	case "site_db_check":
		pw, ok := f.dbs[p[0]]
		return ok && pw == stdin && p[0] == p[1], nil
	case "site_db_apply":
		f.dbs[p[0]] = stdin
	case "site_exists":
		_, ok := f.files[p[0]]
		return ok, nil
	case "site_file_check":
		return f.files[p[0]] == strings.Join(p[1:5], " "), nil
	case "site_file_install":
		if sha256Hex(stdin) != p[4] {
			return false, errors.New("file content does not match its sum")
		}
		f.files[p[0]] = strings.Join(p[1:5], " ")
	case "site_wordpress_check":
		_, ok := f.files[p[1]]
		return ok, nil
	case "site_wordpress_apply":
		f.files[p[2]] = "marker"
	case "site_git_check":
		return f.gits[p[1]] == p[2]+"#"+p[3], nil
	case "site_git_clone":
		f.gits[p[2]] = p[3] + "#" + p[4]
	case "site_composer_check":
		return f.vendors[p[0]], nil
	case "site_composer_apply":
		f.vendors[p[2]] = true
	case "site_artisan_check":
		_, ok := f.files[p[2]]
		return ok, nil
	case "site_artisan_apply":
		f.files[p[3]] = "marker"
	case "file_check":
		content, ok := f.nginx[p[0]]
		return ok && sha256Hex(content) == p[1], nil
	case "nginx_install":
		f.nginx[p[0]] = stdin
	case "site_absent":
		_, ok := f.nginx[p[0]]
		return !ok, nil
	case "site_nginx_remove":
		delete(f.nginx, p[0])
	case "site_fpm_absent":
		_, ok := f.pools[p[0]]
		return !ok, nil
	case "site_fpm_remove":
		delete(f.pools, p[0])
	case "site_db_absent":
		_, ok := f.dbs[p[0]]
		return !ok, nil
	case "site_db_drop":
		delete(f.dbs, p[0])
	case "site_user_absent":
		_, ok := f.users[p[0]]
		return !ok && !f.hasPathUnder(p[1]) && !f.hasPathUnder(p[2]), nil
	case "site_user_remove":
		delete(f.users, p[0])
		for _, root := range p[1:3] {
			for _, m := range []map[string]string{f.dirs, f.files} {
				for path := range m {
					if path == root || strings.HasPrefix(path, root+"/") {
						delete(m, path)
					}
				}
			}
		}
	default:
		return false, fmt.Errorf("the fake server does not know script %s", name)
	}
	return true, nil
}

func (f *siteServer) hasPathUnder(root string) bool {
	for _, m := range []map[string]string{f.dirs, f.files} {
		for path := range m {
			if path == root || strings.HasPrefix(path, root+"/") {
				return true
			}
		}
	}
	return false
}

const testSiteName = "site0123456789abcdef"

var testDB = Database{Name: testSiteName, User: testSiteName, Password: "Pw0rdPw0rdPw0rdPw0rd"}

func testSalts() map[string]string {
	salts := map[string]string{}
	for _, n := range WordPressSaltNames {
		salts[n] = strings.Repeat("s", 40) + n
	}
	return salts
}

// siteSteps is the order the site package applies a site in.
func siteSteps(s Site) []Step {
	steps := []Step{SiteUser(s), SiteDirectories(s)}
	if s.PHP() {
		steps = append(steps, SitePool(s), SiteDatabase(testDB))
	}
	switch s.Type {
	case SiteHTML:
		steps = append(steps, SitePlaceholder(s))
	case SiteWordPress:
		steps = append(steps, WordPressFiles(s), WordPressConfig(s, testDB, testSalts()))
	case SiteLaravel:
		steps = append(steps, GitCheckout(s, "https://git.example.com/app.git", "main"),
			LaravelEnv(s, []Var{{"APP_KEY", "base64:c2VjcmV0"}, {"APP_NAME", "Shop"}}, testDB),
			ComposerInstall(s), ArtisanMigrate(s))
	}
	if s.TLS {
		steps = append(steps, SiteCertificate(s, []byte("-----BEGIN CERTIFICATE-----\nleaf\n"), []byte("-----BEGIN PRIVATE KEY-----\nsecret-key\n")))
	}
	return append(steps, SiteNginx(s))
}

func ensureAll(t *testing.T, h *Host, steps []Step) (changed []string) {
	t.Helper()
	for _, s := range steps {
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

func TestSiteStepsConvergeThenFindNothingToDo(t *testing.T) {
	sites := []Site{
		{Name: testSiteName, Type: SiteHTML, Domain: "example.com", Aliases: []string{"www.example.com"}},
		{Name: testSiteName, Type: SiteWordPress, Domain: "blog.example.com", PHPVersion: "8.2"},
		{Name: testSiteName, Type: SiteLaravel, Domain: "app.example.com", PHPVersion: "8.3", TLS: true},
	}
	for _, s := range sites {
		t.Run(s.Type, func(t *testing.T) {
			f := newSiteServer(t)
			steps := siteSteps(s)
			if changed := ensureAll(t, f.host(), steps); len(changed) != len(steps) {
				t.Fatalf("a fresh server changed in %d of %d steps: %v", len(changed), len(steps), changed)
			}
			f.scripts = nil
			if changed := ensureAll(t, f.host(), siteSteps(s)); len(changed) != 0 {
				t.Fatalf("the second run changed %v", changed)
			}
			for _, name := range f.scripts {
				if !strings.Contains(name, "check") && !strings.Contains(name, "exists") && name != "has_ipv6" && name != "site_nginx_workers" {
					t.Errorf("the second run ran %s, which changes the server", name)
				}
			}
			if got := f.users[s.Name]; got != s.Home() {
				t.Errorf("user home %q, want %q", got, s.Home())
			}
			if got := f.dirs[s.Home()]; got != "750 "+s.Name+" www-data" {
				t.Errorf("home %q, want mode 750 owned by the site user and group www-data", got)
			}
		})
	}
}

func TestSiteStepsResumeAfterAnInterruptedApply(t *testing.T) {
	s := Site{Name: testSiteName, Type: SiteLaravel, Domain: "app.example.com", PHPVersion: "8.2"}
	for _, script := range []string{"site_user_apply", "site_fpm_install", "site_db_apply", "site_git_clone", "site_file_install", "site_artisan_apply", "nginx_install"} {
		t.Run(script, func(t *testing.T) {
			f := newSiteServer(t)
			f.failOnce[script] = true
			h := f.host()
			var failed bool
			for _, st := range siteSteps(s) {
				if _, err := st.Ensure(context.Background(), h); err != nil {
					if !errors.Is(err, sshx.ErrConnectionLost) {
						t.Fatalf("%s: %v", st.Name, err)
					}
					failed = true
					break
				}
			}
			if !failed {
				t.Fatalf("the injected failure of %s never happened", script)
			}
			// The job system runs the cut step again, then the rest.
			ensureAll(t, h, siteSteps(s))
			if changed := ensureAll(t, h, siteSteps(s)); len(changed) != 0 {
				t.Fatalf("after resuming, another run still changed %v", changed)
			}
			if len(f.users) != 1 || len(f.pools) != 1 || len(f.dbs) != 1 || len(f.nginx) != 1 {
				t.Fatalf("want one user, pool, database and server block; have %d, %d, %d, %d", len(f.users), len(f.pools), len(f.dbs), len(f.nginx))
			}
		})
	}
}

func TestSiteSecretsTravelOnStdinOnly(t *testing.T) {
	s := Site{Name: testSiteName, Type: SiteWordPress, Domain: "blog.example.com", PHPVersion: "8.2", TLS: true}
	f := newSiteServer(t)
	ensureAll(t, f.host(), siteSteps(s))
	secrets := []string{testDB.Password, "secret-key", testSalts()["AUTH_KEY"]}
	for _, cmd := range f.commands {
		line := strings.Join(cmd.Args[4:], " ")
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				t.Errorf("a secret is in the arguments of %s: %q", scriptNames[cmd.Args[2]], line)
			}
		}
	}
	if f.dbs[testSiteName] != testDB.Password {
		t.Fatalf("the database did not get its password through stdin")
	}
	if got := f.files[s.AppDir()+"/wp-config.php"]; !strings.HasPrefix(got, "600 "+s.Name+" "+s.Name+" ") {
		t.Fatalf("wp-config.php is %q, want mode 600 owned by the site user", got)
	}
	if got := f.files[s.CertDir()+"/key.pem"]; !strings.HasPrefix(got, "600 root root ") {
		t.Fatalf("the private key is %q, want mode 600 owned by root", got)
	}
}

func TestSiteRemovalIsIdempotent(t *testing.T) {
	s := Site{Name: testSiteName, Type: SiteWordPress, Domain: "blog.example.com", PHPVersion: "8.2"}
	f := newSiteServer(t)
	ensureAll(t, f.host(), siteSteps(s))
	removal := func() []Step {
		return []Step{RemoveSiteNginx(s.Name), RemoveSitePool(s.Name), DropSiteDatabase(s.Name), RemoveSiteUser(s.Name)}
	}
	if changed := ensureAll(t, f.host(), removal()); len(changed) != 4 {
		t.Fatalf("removal changed %v, want all four steps", changed)
	}
	if len(f.users)+len(f.pools)+len(f.dbs)+len(f.nginx) != 0 || f.hasPathUnder(s.Home()) {
		t.Fatalf("left behind: users %v pools %v dbs %v nginx %v files %v", f.users, f.pools, f.dbs, f.nginx, f.files)
	}
	if changed := ensureAll(t, f.host(), removal()); len(changed) != 0 {
		t.Fatalf("removing a removed site changed %v", changed)
	}
}

func TestSiteStepsRefuseInvalidInput(t *testing.T) {
	good := Site{Name: testSiteName, Type: SiteWordPress, Domain: "blog.example.com", PHPVersion: "8.2"}
	bad := map[string]func(*Site){
		"user name not derived from an id": func(s *Site) { s.Name = "root" },
		"domain with nginx syntax":         func(s *Site) { s.Domain = "example.com; include /etc/shadow" },
		"alias with a newline":             func(s *Site) { s.Aliases = []string{"a.example.com\nserver_name x"} },
		"upper-case domain":                func(s *Site) { s.Domain = "Example.com" },
		"php version with a path":          func(s *Site) { s.PHPVersion = "../../8.2" },
		"unknown type":                     func(s *Site) { s.Type = "python" },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			s := good
			mutate(&s)
			f := newSiteServer(t)
			for _, step := range []Step{SiteUser(s), SiteDirectories(s), SitePool(s), SiteNginx(s), WordPressFiles(s), WordPressConfig(s, testDB, testSalts())} {
				if _, err := step.Ensure(context.Background(), f.host()); err == nil {
					t.Errorf("%s accepted the invalid site", step.Name)
				}
			}
			if len(f.scripts) != 0 {
				t.Fatalf("scripts ran for an invalid site: %v", f.scripts)
			}
		})
	}
	f := newSiteServer(t)
	if _, err := SiteDatabase(Database{Name: testSiteName, User: testSiteName, Password: "pw'; DROP USER root; --"}).Ensure(context.Background(), f.host()); err == nil {
		t.Fatal("a password that is not alphanumeric was accepted")
	}
	if _, err := RemoveSiteUser("root").Ensure(context.Background(), f.host()); err == nil {
		t.Fatal("removing the user root was accepted")
	}
	if len(f.scripts) != 0 {
		t.Fatalf("scripts ran for invalid input: %v", f.scripts)
	}
}

func TestSiteName(t *testing.T) {
	tests := []struct {
		id, want string
		wantErr  bool
	}{
		{id: "0f8fad5b-d9cb-469f-a165-70867728950e", want: "site0f8fad5bd9cb469f"},
		{id: "0F8FAD5B-D9CB-469F-A165-70867728950E", want: "site0f8fad5bd9cb469f"},
		{id: "short", wantErr: true},
		{id: "../../../../etc/passwd-xxxxxxxxxx", wantErr: true},
		{id: "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", wantErr: true},
	}
	for _, tt := range tests {
		got, err := SiteName(tt.id)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("SiteName(%q) = %q, %v; want %q, error %v", tt.id, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRenderNginx(t *testing.T) {
	base := Site{Name: testSiteName, Domain: "example.com", Aliases: []string{"www.example.com"}}
	tests := []struct {
		name    string
		site    func(Site) Site
		ipv6    bool
		want    []string
		notWant []string
	}{
		{
			name: "html",
			site: func(s Site) Site { s.Type = SiteHTML; return s },
			want: []string{
				"server_name example.com www.example.com;", "root /srv/chom/sites/" + testSiteName + "/www;",
				"try_files $uri $uri/ =404;", "alias /srv/chom/acme-challenge/;", "location ~ /\\. {",
			},
			notWant: []string{"fastcgi_pass", "listen [::]:80", "443"},
		},
		{
			name: "wordpress with IPv6",
			site: func(s Site) Site { s.Type, s.PHPVersion = SiteWordPress, "8.2"; return s },
			ipv6: true,
			want: []string{"listen [::]:80;", "/index.php?$args", "fastcgi_pass unix:/run/php/" + testSiteName + ".sock;", "index index.html index.htm index.php;"},
		},
		{
			name: "laravel serves public",
			site: func(s Site) Site { s.Type, s.PHPVersion = SiteLaravel, "8.2"; return s },
			want: []string{"root /srv/chom/sites/" + testSiteName + "/www/public;", "/index.php?$query_string"},
		},
		{
			name: "tls redirects http",
			site: func(s Site) Site { s.Type, s.TLS = SiteHTML, true; return s },
			want: []string{
				"return 301 https://$host$request_uri;", "listen 443 ssl;",
				"ssl_certificate /srv/chom/ssl/" + testSiteName + "/fullchain.pem;",
				"ssl_certificate_key /srv/chom/ssl/" + testSiteName + "/key.pem;",
			},
		},
		{
			name:    "suspended serves 503",
			site:    func(s Site) Site { s.Type, s.PHPVersion, s.Suspended = SiteWordPress, "8.2", true; return s },
			want:    []string{"return 503", "alias /srv/chom/acme-challenge/;"},
			notWant: []string{"fastcgi_pass", "try_files"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := RenderNginx(tt.site(base), tt.ipv6)
			if err != nil {
				t.Fatal(err)
			}
			conf := string(out)
			for _, w := range tt.want {
				if !strings.Contains(conf, w) {
					t.Errorf("missing %q in:\n%s", w, conf)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(conf, w) {
					t.Errorf("unexpected %q in:\n%s", w, conf)
				}
			}
			if open, closed := strings.Count(conf, "{"), strings.Count(conf, "}"); open != closed {
				t.Errorf("%d { but %d } in:\n%s", open, closed, conf)
			}
		})
	}
	if _, err := RenderNginx(Site{Name: testSiteName, Type: SiteHTML, Domain: "a.com;"}, false); err == nil {
		t.Fatal("rendered a domain with nginx syntax")
	}
}

func TestRenderPool(t *testing.T) {
	out, err := RenderPool(Site{Name: testSiteName, Type: SiteLaravel, Domain: "app.example.com", PHPVersion: "8.2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"[" + testSiteName + "]", "user = " + testSiteName, "group = " + testSiteName,
		"listen = /run/php/" + testSiteName + ".sock", "listen.owner = " + testSiteName,
		"listen.group = www-data", "listen.mode = 0660", "open_basedir] = /srv/chom/sites/" + testSiteName + "/",
	} {
		if !strings.Contains(string(out), w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
	if _, err := RenderPool(Site{Name: testSiteName, Type: SiteHTML, Domain: "example.com"}); err == nil {
		t.Fatal("rendered a pool for an html site")
	}
}

func TestRenderWordPressConfig(t *testing.T) {
	salts := testSalts()
	salts["NONCE_SALT"] = strings.Repeat("x", 32) + `it's\`
	out, err := RenderWordPressConfig(testDB, salts)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"define('DB_NAME', '" + testSiteName + "');", "define('DB_PASSWORD', '" + testDB.Password + "');",
		"define('DB_HOST', 'localhost');", `define('NONCE_SALT', '` + strings.Repeat("x", 32) + `it\'s\\');`,
	} {
		if !strings.Contains(string(out), w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
	for _, n := range WordPressSaltNames {
		if !strings.Contains(string(out), "define('"+n+"', ") {
			t.Errorf("salt %s missing", n)
		}
	}
	delete(salts, "AUTH_KEY")
	if _, err := RenderWordPressConfig(testDB, salts); err == nil {
		t.Fatal("rendered wp-config.php without every salt")
	}
}

func TestRenderEnv(t *testing.T) {
	out, err := RenderEnv([]Var{
		{"APP_NAME", "My Shop"}, {"QUOTED", `it's "$HOME" \n`}, {"EMPTY", ""},
	}, testDB)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, w := range []string{
		"APP_NAME='My Shop'", `QUOTED="it's \"\$HOME\" \\n"`, "EMPTY=''",
		"DB_CONNECTION='mysql'", "DB_HOST='localhost'", "DB_DATABASE='" + testSiteName + "'",
		"DB_USERNAME='" + testSiteName + "'", "DB_PASSWORD='" + testDB.Password + "'",
	} {
		if !slices.Contains(lines, w) {
			t.Errorf("missing line %s in:\n%s", w, out)
		}
	}
	for name, v := range map[string]Var{
		"managed name":     {"DB_PASSWORD", "mine"},
		"bad name":         {"BAD-NAME", "x"},
		"name with digits": {"1ST", "x"},
		"newline in value": {"X", "a\nB=c"},
	} {
		if _, err := RenderEnv([]Var{v}, testDB); err == nil {
			t.Errorf("%s: rendered %s=%q", name, v.Name, v.Value)
		}
	}
}

func TestRenderPlaceholderEscapesTheDomain(t *testing.T) {
	out, err := RenderPlaceholder(Site{Name: testSiteName, Type: SiteHTML, Domain: "shop.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "<h1>shop.example.com</h1>") {
		t.Fatalf("the page does not name the domain:\n%s", out)
	}
}
