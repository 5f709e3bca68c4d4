package site_test

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/chomhq/chom/provider/internal/acctest"
)

// laravelFixture serves a small Laravel-shaped application from a git
// daemon inside the host (nothing beyond it is needed): a composer.json
// without dependencies, an artisan whose migrate succeeds, and a route
// that answers with APP_NAME from the .env CHOM wrote. It returns the
// repository's URL as the host sees it.
func laravelFixture(t *testing.T, h acctest.Host) string {
	t.Helper()
	suffix := strings.ToLower(rand.Text()[:8])
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		t.Fatal(err)
	}
	port := 30000 + int(n.Int64())
	dir := "/opt/chom-acc-laravel-" + suffix
	_, err = h.Exec(fmt.Sprintf(`set -e
dir=%[1]s
mkdir -p $dir/src/app $dir/src/public $dir/repos
cd $dir/src
cat > composer.json <<'JSON'
{"name": "chom/acceptance", "require": {}, "repositories": [{"packagist.org": false}], "autoload": {"psr-4": {"App\\": "app/"}}}
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
}
PHP
cat > artisan <<'PHP'
<?php
require __DIR__ . '/vendor/autoload.php';
if (($argv[1] ?? '') !== 'migrate') { fwrite(STDERR, "unknown command\n"); exit(1); }
echo "Nothing to migrate\n";
PHP
cat > public/index.php <<'PHP'
<?php
require __DIR__ . '/../vendor/autoload.php';
$e = App\Env::load(__DIR__ . '/../.env');
echo "app name: " . ($e['APP_NAME'] ?? '') . "\n";
PHP
git init -q -b main .
git add -A
git -c user.name=acceptance -c user.email=acceptance@example.test commit -q -m fixture
git clone -q --bare . $dir/repos/app.git
git daemon --detach --pid-file=$dir/daemon.pid --reuseaddr --base-path=$dir/repos --export-all --listen=127.0.0.1 --port=%[2]d $dir/repos
for i in $(seq 50); do git ls-remote git://127.0.0.1:%[2]d/app.git >/dev/null 2>&1 && exit 0; sleep 0.1; done
echo "git daemon did not start" >&2; exit 1`, dir, port))
	if err != nil {
		t.Fatalf("laravel fixture: %v", err)
	}
	t.Cleanup(func() {
		if _, err := h.Exec("kill $(cat " + dir + "/daemon.pid); rm -rf " + dir); err != nil {
			t.Logf("remove the laravel fixture: %v", err)
		}
	})
	return fmt.Sprintf("git://127.0.0.1:%d/app.git", port)
}

// dotenv returns the .env CHOM wrote for the site of the system user.
func dotenv(h acctest.Host, user string) (string, error) {
	return h.Exec("cat /srv/chom/sites/" + user + "/www/.env")
}
