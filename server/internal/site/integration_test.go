package site_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/testhost"
)

// The tests in this file drive the real control plane through its API
// against the test hosts (CHOM_INTEGRATION=1, scripts/testhosts): what they
// check is what nginx serves and what is on the hosts.

// platform is a control plane with running workers, allowed to reach the
// test hosts, one tenant and its servers.
type platform struct {
	e     *apitest.Env
	owner *apitest.Tenant
	hosts []testhost.Host
	vps   map[string]string // host name → VPS id

	mu     sync.Mutex
	bodies []string
}

func newPlatform(t *testing.T, opts ...apitest.Option) *platform {
	t.Helper()
	hosts := testhost.Hosts(t)
	if len(hosts) < 2 {
		t.Fatalf("need 2 test hosts, have %d", len(hosts))
	}
	e := apitest.New(t, append([]apitest.Option{apitest.WithEnv("CHOM_ALLOWED_NETWORKS", "10.77.0.0/16")}, opts...)...)
	if err := e.Server.Jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := &platform{e: e, owner: e.Register(t, "sites"), hosts: hosts[:2], vps: map[string]string{}}
	for _, h := range p.hosts {
		resp := p.do(t, http.MethodPost, "/api/v1/vps", map[string]any{
			"name": h.Name, "host": h.Address, "port": h.SSHPort, "ssh_user": h.User,
			"ssh_private_key": string(h.PrivateKey), "expected_host_key_fingerprint": h.HostKeyFingerprint,
		})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("register %s: %d %s", h.Name, resp.Status, resp.Body)
		}
		var out struct {
			VPS       struct{ ID string } `json:"vps"`
			Operation struct{ ID string } `json:"operation"`
		}
		resp.Decode(t, &out)
		p.vps[h.Name] = out.VPS.ID
		if op := p.wait(t, out.Operation.ID); op["status"] != "succeeded" {
			t.Fatalf("bootstrap of %s: %v", h.Name, op["error"])
		}
	}
	return p
}

func (p *platform) do(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	resp := p.e.Do(t, method, path, p.owner.Token, body)
	p.mu.Lock()
	p.bodies = append(p.bodies, string(resp.Body))
	p.mu.Unlock()
	return resp
}

// wait polls an operation until it has finished.
func (p *platform) wait(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		op := p.do(t, http.MethodGet, "/api/v1/operations/"+id, nil).Map(t)
		if op["status"] == "succeeded" || op["status"] == "failed" {
			return op
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("operation %s did not finish", id)
	return nil
}

// site is a site as the API returns it.
type site struct {
	ID, Domain, User, Status string
}

// start sends a request that starts a site operation and returns the
// site and the operation's id.
func (p *platform) start(t *testing.T, method, path string, body any) (site, string) {
	t.Helper()
	resp := p.do(t, method, path, body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("%s %s: %d %s", method, path, resp.Status, resp.Body)
	}
	var out struct {
		Site struct {
			ID         string `json:"id"`
			Domain     string `json:"domain"`
			SystemUser string `json:"system_user"`
		} `json:"site"`
		Operation struct{ ID string } `json:"operation"`
	}
	resp.Decode(t, &out)
	return site{ID: out.Site.ID, Domain: out.Site.Domain, User: out.Site.SystemUser}, out.Operation.ID
}

// finish waits for the operation and returns the site as it is then.
func (p *platform) finish(t *testing.T, s site, opID string) (site, map[string]any) {
	t.Helper()
	op := p.wait(t, opID)
	if got := p.do(t, http.MethodGet, "/api/v1/sites/"+s.ID, nil); got.Status == http.StatusOK {
		s.Status = got.Map(t)["status"].(string)
	}
	return s, op
}

// mutate sends a request that starts a site operation, waits for it and
// returns the site and the finished operation.
func (p *platform) mutate(t *testing.T, method, path string, body any) (site, map[string]any) {
	t.Helper()
	s, opID := p.start(t, method, path, body)
	return p.finish(t, s, opID)
}

// create makes a site on host and waits until it is active. The site is
// deleted when the test ends, whatever became of it.
func (p *platform) create(t *testing.T, h testhost.Host, body map[string]any) site {
	t.Helper()
	body["vps_id"] = p.vps[h.Name]
	s, opID := p.start(t, http.MethodPost, "/api/v1/sites", body)
	t.Cleanup(func() { p.remove(t, h, s) })
	s, op := p.finish(t, s, opID)
	if op["status"] != "succeeded" || s.Status != "active" {
		t.Fatalf("create %v: site %s, operation %v: %v\n%v", body["domain"], s.Status, op["status"], op["error"], op["log"])
	}
	return s
}

// remove deletes a site left by a test that failed halfway.
func (p *platform) remove(t *testing.T, h testhost.Host, s site) {
	resp := p.e.Do(t, http.MethodGet, "/api/v1/sites/"+s.ID, p.owner.Token, nil)
	if resp.Status == http.StatusNotFound {
		return
	}
	del := p.e.Do(t, http.MethodDelete, "/api/v1/sites/"+s.ID, p.owner.Token, nil)
	if del.Status != http.StatusAccepted {
		t.Logf("clean up %s: %d %s", s.Domain, del.Status, del.Body)
		return
	}
	var out struct {
		Operation struct{ ID string } `json:"operation"`
	}
	del.Decode(t, &out)
	p.wait(t, out.Operation.ID)
}

// get fetches path from host with the site's host name until it answers
// want or time runs out, and returns the last answer.
func get(t *testing.T, h testhost.Host, hostHeader, path string, want int) (int, string) {
	t.Helper()
	var status int
	var body string
	var err error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		status, body, err = h.HTTPGet(t, hostHeader, path)
		if err == nil && status == want {
			return status, body
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET http://%s%s on %s: %v", hostHeader, path, h.Name, err)
	}
	return status, body
}

// onHost runs a shell command on the host, failing the test on error.
func onHost(t *testing.T, h testhost.Host, script string) string {
	t.Helper()
	out, err := h.Exec(t, "sh", "-c", script)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return strings.TrimSpace(out)
}

// leftovers lists what of the site called user is still on the host.
func leftovers(t *testing.T, h testhost.Host, user string) string {
	t.Helper()
	return onHost(t, h, fmt.Sprintf(`
getent passwd %[1]s >/dev/null && echo user
getent group %[1]s >/dev/null && echo group
ls /etc/php/*/fpm/pool.d/%[1]s.conf 2>/dev/null
[ -S /run/php/%[1]s.sock ] && echo socket
ls /etc/nginx/chom.d/%[1]s.conf 2>/dev/null
ls -d /srv/chom/sites/%[1]s /srv/chom/ssl/%[1]s 2>/dev/null
ls /var/log/nginx/%[1]s.* 2>/dev/null
mariadb -N -B -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '%[1]s'; SELECT User FROM mysql.user WHERE User = '%[1]s'"
true`, user))
}

func TestIntegrationHTMLSiteLifecycle(t *testing.T) {
	p := newPlatform(t)
	h := p.hosts[0]
	domain := "html-" + suffix() + ".example.test"

	start := time.Now()
	s, _ := p.start(t, http.MethodPost, "/api/v1/sites", map[string]any{"domain": domain, "type": "html", "vps_id": p.vps[h.Name]})
	t.Cleanup(func() { p.remove(t, h, s) })
	status, body := get(t, h, domain, "/", http.StatusOK)
	firstOK := time.Since(start)
	if status != http.StatusOK || !strings.Contains(body, "<h1>"+domain+"</h1>") {
		t.Fatalf("GET /: %d %s", status, body)
	}
	t.Logf("html site: %s from POST to the first HTTP 200", firstOK.Round(time.Millisecond))

	// Files belong to the site user; only it and nginx may enter the home.
	if got := onHost(t, h, "stat -c '%a %U %G' /srv/chom/sites/"+s.User+" /srv/chom/sites/"+s.User+"/www/index.html"); got != "750 "+s.User+" www-data\n644 "+s.User+" "+s.User {
		t.Fatalf("ownership: %q", got)
	}

	// An alias is served once added.
	alias := "www." + domain
	if status, _ := get(t, h, alias, "/", http.StatusNotFound); status != http.StatusNotFound {
		t.Fatalf("the alias answers %d before it is added", status)
	}
	if s, op := p.mutate(t, http.MethodPatch, "/api/v1/sites/"+s.ID, map[string]any{"aliases": []string{alias}}); op["status"] != "succeeded" || s.Status != "active" {
		t.Fatalf("add alias: %v %v", op["error"], op["log"])
	}
	if status, body := get(t, h, alias, "/", http.StatusOK); status != http.StatusOK || !strings.Contains(body, domain) {
		t.Fatalf("alias: %d %s", status, body)
	}

	// Suspended, it answers 503 with the maintenance page; resumed, 200.
	if s, op := p.mutate(t, http.MethodPost, "/api/v1/sites/"+s.ID+"/suspend", nil); op["status"] != "succeeded" || s.Status != "suspended" {
		t.Fatalf("suspend: %s %v", s.Status, op["error"])
	}
	if status, body := get(t, h, domain, "/", http.StatusServiceUnavailable); status != http.StatusServiceUnavailable || !strings.Contains(body, "suspended") {
		t.Fatalf("suspended: %d %s", status, body)
	}
	if s, op := p.mutate(t, http.MethodPost, "/api/v1/sites/"+s.ID+"/resume", nil); op["status"] != "succeeded" || s.Status != "active" {
		t.Fatalf("resume: %s %v", s.Status, op["error"])
	}
	if status, _ := get(t, h, domain, "/", http.StatusOK); status != http.StatusOK {
		t.Fatalf("resumed: %d", status)
	}

	// Delete leaves nothing, and deleting what is gone succeeds.
	if _, op := p.mutate(t, http.MethodDelete, "/api/v1/sites/"+s.ID, nil); op["status"] != "succeeded" {
		t.Fatalf("delete: %v", op["error"])
	}
	if got := p.do(t, http.MethodGet, "/api/v1/sites/"+s.ID, nil); got.Status != http.StatusNotFound {
		t.Fatalf("deleted site: %d", got.Status)
	}
	// The site no longer counts against the organization's max_sites.
	if org, err := p.e.Server.Store.Organization(context.Background(), p.owner.OrgID); err != nil || org.SitesCount != 0 {
		t.Fatalf("sites counted after the delete: %+v %v", org, err)
	}
	if left := leftovers(t, h, s.User); left != "" {
		t.Fatalf("left on the host:\n%s", left)
	}
	if status, _ := get(t, h, domain, "/", http.StatusNotFound); status != http.StatusNotFound {
		t.Fatalf("the deleted site still answers %d", status)
	}
}

func suffix() string { return fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff) }

func TestIntegrationWordPressSite(t *testing.T) {
	p := newPlatform(t)
	h := p.hosts[0]
	domain := "wp-" + suffix() + ".example.test"
	s := p.create(t, h, map[string]any{"domain": domain, "type": "wordpress"})

	// WordPress's own page: its installer, since the database is empty.
	status, body := get(t, h, domain, "/", http.StatusFound)
	if status != http.StatusFound {
		t.Fatalf("GET /: %d %s", status, body)
	}
	status, body = get(t, h, domain, "/wp-admin/install.php", http.StatusOK)
	if status != http.StatusOK || !strings.Contains(body, "WordPress") || !strings.Contains(body, "language") {
		t.Fatalf("GET /wp-admin/install.php: %d %.300s", status, body)
	}
	// The database and its user exist, and the credentials log in.
	if got := onHost(t, h, "mariadb -N -B -e \"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '"+s.User+"'; SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User = '"+s.User+"'\""); got != s.User+"\n"+s.User+"@localhost" {
		t.Fatalf("database and user: %q", got)
	}
	cred := p.do(t, http.MethodGet, "/api/v1/sites/"+s.ID+"/credentials", nil).Map(t)
	password := cred["database_password"].(string)
	if got := onHost(t, h, "MYSQL_PWD='"+password+"' mariadb -N -B -u "+s.User+" -e 'SELECT DATABASE()' "+s.User); got != s.User {
		t.Fatalf("log in with the credentials: %q", got)
	}
	// wp-config.php carries them, readable by the site user only, with salts.
	config := onHost(t, h, "stat -c '%a %U' /srv/chom/sites/"+s.User+"/www/wp-config.php; cat /srv/chom/sites/"+s.User+"/www/wp-config.php")
	if !strings.HasPrefix(config, "600 "+s.User+"\n") || !strings.Contains(config, "define('DB_PASSWORD', '"+password+"');") || strings.Contains(config, "put your unique phrase here") {
		t.Fatalf("wp-config.php:\n%s", config)
	}
	// PHP runs as the site user, from its own pool.
	pool := onHost(t, h, "stat -c '%a %U %G' /run/php/"+s.User+".sock")
	if pool != "660 "+s.User+" www-data" {
		t.Fatalf("pool socket: %q", pool)
	}
	for _, b := range p.bodies {
		if strings.Count(b, password) > 0 && !strings.Contains(b, "database_password") {
			t.Fatalf("a response other than the credentials carries the password: %.200s", b)
		}
	}

	if _, op := p.mutate(t, http.MethodDelete, "/api/v1/sites/"+s.ID, nil); op["status"] != "succeeded" {
		t.Fatalf("delete: %v", op["error"])
	}
	if left := leftovers(t, h, s.User); left != "" {
		t.Fatalf("left on the host:\n%s", left)
	}
}

// laravelFixture serves a small Laravel-shaped application from a git
// daemon on the host (no network beyond it): a composer.json without
// dependencies, an artisan whose migrate creates a table with the .env's
// database settings, and a route answering through public/index.php.
func laravelFixture(t *testing.T, h testhost.Host) string {
	t.Helper()
	dir := "/opt/chom-laravel-fixture-" + suffix()
	onHost(t, h, `set -e
dir=`+dir+`
mkdir -p $dir/src/app $dir/src/public $dir/repos
cd $dir/src
cat > composer.json <<'JSON'
{"name": "chom/fixture", "require": {}, "repositories": [{"packagist.org": false}], "autoload": {"psr-4": {"App\\": "app/"}}}
JSON
cat > app/Env.php <<'PHP'
<?php
namespace App;
class Env {
    public static function load(string $file): array {
        $vars = [];
        foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
            if ($line === '' || $line[0] === '#' || !str_contains($line, '=')) continue;
            [$k, $v] = explode('=', $line, 2);
            $vars[$k] = trim($v, "'\"");
        }
        return $vars;
    }
    public static function pdo(array $e): \PDO {
        return new \PDO('mysql:host=' . $e['DB_HOST'] . ';dbname=' . $e['DB_DATABASE'], $e['DB_USERNAME'], $e['DB_PASSWORD']);
    }
}
PHP
cat > artisan <<'PHP'
<?php
require __DIR__ . '/vendor/autoload.php';
if (($argv[1] ?? '') !== 'migrate') { fwrite(STDERR, "unknown command\n"); exit(1); }
$e = App\Env::load(__DIR__ . '/.env');
App\Env::pdo($e)->exec('CREATE TABLE IF NOT EXISTS fixture_migrations (id INT PRIMARY KEY)');
echo "Migrated\n";
PHP
cat > public/index.php <<'PHP'
<?php
require __DIR__ . '/../vendor/autoload.php';
$e = App\Env::load(__DIR__ . '/../.env');
if (parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) === '/hello') {
    $n = App\Env::pdo($e)->query('SELECT COUNT(*) FROM fixture_migrations')->fetchColumn();
    echo "hello from " . $e['APP_NAME'] . " as " . posix_getpwuid(posix_geteuid())['name'] . ", migrations table rows: $n\n";
    exit;
}
http_response_code(404);
PHP
git init -q -b release .
git add -A
git -c user.name=fixture -c user.email=fixture@example.test commit -q -m fixture
git clone -q --bare . $dir/repos/app.git
git daemon --detach --pid-file=$dir/daemon.pid --reuseaddr --base-path=$dir/repos --export-all --listen=127.0.0.1 --port=9418 $dir/repos
for i in $(seq 50); do git ls-remote git://127.0.0.1/app.git >/dev/null 2>&1 && exit 0; sleep 0.1; done
echo "git daemon did not start" >&2; exit 1`)
	t.Cleanup(func() {
		if _, err := h.Exec(t, "sh", "-c", "kill $(cat "+dir+"/daemon.pid); rm -rf "+dir); err != nil {
			t.Logf("remove the fixture: %v", err)
		}
	})
	return "git://127.0.0.1/app.git"
}

func TestIntegrationLaravelSite(t *testing.T) {
	p := newPlatform(t)
	h := p.hosts[0]
	repo := laravelFixture(t, h)
	domain := "laravel-" + suffix() + ".example.test"
	s := p.create(t, h, map[string]any{
		"domain": domain, "type": "laravel", "git_repository": repo, "git_branch": "release",
		"environment": map[string]string{"APP_NAME": "Fixture Shop", "APP_ENV": "production"},
	})
	status, body := get(t, h, domain, "/hello", http.StatusOK)
	if status != http.StatusOK || body != "hello from Fixture Shop as "+s.User+", migrations table rows: 0\n" {
		t.Fatalf("GET /hello: %d %q", status, body)
	}
	env := onHost(t, h, "stat -c '%a %U' /srv/chom/sites/"+s.User+"/www/.env; cat /srv/chom/sites/"+s.User+"/www/.env")
	for _, want := range []string{"600 " + s.User, "DB_DATABASE='" + s.User + "'", "DB_USERNAME='" + s.User + "'", "DB_HOST='localhost'", "APP_NAME='Fixture Shop'", "APP_KEY='base64:"} {
		if !strings.Contains(env, want) {
			t.Fatalf(".env lacks %q:\n%s", want, env)
		}
	}
	if got := onHost(t, h, "ls /srv/chom/sites/"+s.User+"/www/vendor/autoload.php"); got == "" {
		t.Fatal("composer install did not run")
	}
	// The application's source is not served: nginx's root is public/.
	if status, _ := get(t, h, domain, "/../composer.json", http.StatusNotFound); status == http.StatusOK {
		t.Fatal("a file outside public/ was served")
	}
	if status, _ := get(t, h, domain, "/.env", http.StatusForbidden); status == http.StatusOK {
		t.Fatal(".env was served")
	}

	// A new environment rewrites .env; the application sees it.
	if _, op := p.mutate(t, http.MethodPatch, "/api/v1/sites/"+s.ID, map[string]any{"environment": map[string]string{"APP_NAME": "Renamed"}}); op["status"] != "succeeded" {
		t.Fatalf("patch environment: %v", op["error"])
	}
	if status, body := get(t, h, domain, "/hello", http.StatusOK); !strings.HasPrefix(body, "hello from Renamed") {
		t.Fatalf("after the patch: %d %q", status, body)
	}
}

// TestIntegrationRejectedConfigKeepsOtherSitesUp makes nginx -t fail while
// a site's server block is being changed: the change is rolled back before
// any reload, so nginx keeps serving every site as before.
func TestIntegrationRejectedConfigKeepsOtherSitesUp(t *testing.T) {
	p := newPlatform(t)
	h := p.hosts[1]
	a := p.create(t, h, map[string]any{"domain": "broken-" + suffix() + ".example.test", "type": "html"})
	b := p.create(t, h, map[string]any{"domain": "bystander-" + suffix() + ".example.test", "type": "html"})
	before := onHost(t, h, "cat /etc/nginx/chom.d/"+a.User+".conf")

	// A directory where the site's error log goes: nginx -t cannot open it.
	errorLog := "/var/log/nginx/" + a.User + ".error.log"
	onHost(t, h, "rm -f "+errorLog+" && mkdir "+errorLog)
	t.Cleanup(func() { _, _ = h.Exec(t, "rmdir", errorLog) })
	s, op := p.mutate(t, http.MethodPatch, "/api/v1/sites/"+a.ID, map[string]any{"aliases": []string{"www." + a.Domain}})
	onHost(t, h, "rmdir "+errorLog)
	if op["status"] != "failed" || !strings.Contains(fmt.Sprint(op["error"]), "nginx rejected the configuration") || s.Status != "failed" {
		t.Fatalf("the rejected change: site %s, operation %v: %v", s.Status, op["status"], op["error"])
	}
	if after := onHost(t, h, "cat /etc/nginx/chom.d/"+a.User+".conf; ls /etc/nginx/chom.d | grep -c chom- || true"); after != before+"\n0" {
		t.Fatalf("the server block was not rolled back:\n%s", after)
	}
	for _, s := range []site{a, b} {
		if status, body := get(t, h, s.Domain, "/", http.StatusOK); status != http.StatusOK || !strings.Contains(body, s.Domain) {
			t.Fatalf("%s after the rejected change: %d", s.Domain, status)
		}
	}
	if status, _ := get(t, h, "www."+a.Domain, "/", http.StatusNotFound); status != http.StatusNotFound {
		t.Fatalf("the rejected alias answers %d", status)
	}
	// With the host fixed, the same change goes through.
	if s, op := p.mutate(t, http.MethodPatch, "/api/v1/sites/"+a.ID, map[string]any{"aliases": []string{"www." + a.Domain}}); op["status"] != "succeeded" || s.Status != "active" {
		t.Fatalf("retry: %v", op["error"])
	}
	if status, _ := get(t, h, "www."+a.Domain, "/", http.StatusOK); status != http.StatusOK {
		t.Fatalf("the alias after the retry: %d", status)
	}
}

// TestIntegrationSitesCannotReadEachOther checks that a site's user and its
// PHP cannot read another site's files on the same host, and that a site's
// files and user exist only on its own host.
func TestIntegrationSitesCannotReadEachOther(t *testing.T) {
	p := newPlatform(t)
	h1, h2 := p.hosts[0], p.hosts[1]
	wp := p.create(t, h1, map[string]any{"domain": "iso-wp-" + suffix() + ".example.test", "type": "wordpress"})
	html := p.create(t, h1, map[string]any{"domain": "iso-html-" + suffix() + ".example.test", "type": "html"})
	far := p.create(t, h2, map[string]any{"domain": "iso-far-" + suffix() + ".example.test", "type": "html"})

	for _, probe := range []struct{ user, cmd string }{
		{wp.User, "cat /srv/chom/sites/" + html.User + "/www/index.html"},
		{html.User, "cat /srv/chom/sites/" + wp.User + "/www/wp-config.php"},
		{html.User, "ls /srv/chom/sites/" + wp.User},
		{wp.User, "ls /srv/chom/ssl/" + html.User},
	} {
		if out, err := h1.Exec(t, "runuser", "-u", probe.user, "--", "sh", "-c", probe.cmd); err == nil {
			t.Errorf("%s could run %q: %s", probe.user, probe.cmd, out)
		}
	}
	if out, err := h1.Exec(t, "runuser", "-u", "www-data", "--", "cat", "/srv/chom/sites/"+wp.User+"/www/wp-config.php"); err == nil {
		t.Errorf("nginx's user could read wp-config.php: %s", out)
	}
	// The WordPress site's PHP, through nginx and its pool.
	probe := "/srv/chom/sites/" + wp.User + "/www/chom-probe.php"
	onHost(t, h1, "runuser -u "+wp.User+" -- sh -c 'cat > "+probe+"' <<'PHP'\n<?php\nvar_dump(@file_get_contents('/srv/chom/sites/"+html.User+"/www/index.html'), @scandir('/srv/chom/sites/"+html.User+"'));\nPHP")
	status, body := get(t, h1, wp.Domain, "/chom-probe.php", http.StatusOK)
	if status != http.StatusOK || body != "bool(false)\nbool(false)\n" {
		t.Fatalf("the WordPress site's PHP reading the other site: %d %q", status, body)
	}

	// Each host holds its own sites only, and serves only them.
	for _, c := range []struct {
		h testhost.Host
		s site
	}{{h2, wp}, {h2, html}, {h1, far}} {
		if out, err := c.h.Exec(t, "sh", "-c", "getent passwd "+c.s.User+" || ls -d /srv/chom/sites/"+c.s.User+" || ls /etc/nginx/chom.d/"+c.s.User+".conf"); err == nil {
			t.Errorf("%s has %s's files or user: %s", c.h.Name, c.s.Domain, out)
		}
		if status, _ := get(t, c.h, c.s.Domain, "/", http.StatusNotFound); status != http.StatusNotFound {
			t.Errorf("%s answers %d for %s", c.h.Name, status, c.s.Domain)
		}
	}
}
