package provision_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/testhost"
)

// TestIntegrationSiteBackupRoundTrip archives a site's files and dumps its
// database on a real host, damages both, and restores them from the
// streams: the files come back byte for byte (links, modes and awkward
// names included), the managed configuration stays the site's current one,
// the row comes back and a table created since is gone. A restore fed a
// stream that breaks half-way leaves the site as it was.
func TestIntegrationSiteBackupRoundTrip(t *testing.T) {
	th := testhost.Hosts(t)[0]
	exec := sshx.New(sshx.Options{})
	t.Cleanup(func() { _ = exec.Close() })
	h := &provision.Host{Runner: exec, Target: sshx.Target{
		Host: th.Address, Port: th.SSHPort, User: th.User, PrivateKey: th.PrivateKey, HostKey: th.HostPublicKey,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	name, err := provision.SiteName(store.NewID())
	if err != nil {
		t.Fatal(err)
	}
	site := provision.Site{Name: name, Type: provision.SiteWordPress, Domain: name + ".example.com", PHPVersion: "8.2"}
	db := provision.Database{Name: name, User: name, Password: "Pw0123456789abcdefXYZ"}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		for _, s := range []provision.Step{provision.DropSiteDatabase(name), provision.RemoveSiteUser(name)} {
			if _, err := s.Ensure(cctx, h); err != nil {
				t.Errorf("clean up: %v", err)
			}
		}
	})
	for _, s := range []provision.Step{provision.SiteUser(site), provision.SiteDirectories(site), provision.SiteDatabase(db)} {
		if _, err := s.Ensure(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	app := site.AppDir()
	asSite := func(script string) string {
		t.Helper()
		out, err := th.Exec(t, "runuser", "-u", name, "--", "sh", "-c", "set -e; cd \"$1\"; "+script, "sh", app)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sql := func(q string) string {
		t.Helper()
		out, err := th.Exec(t, "mariadb", "-N", "-B", name, "-e", q)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	asSite(`printf 'known content\n' > index.php
mkdir -p "wp-content/uploads/it's here"
head -c 300000 /dev/urandom > "wp-content/uploads/it's here/photo.jpg"
chmod 0640 index.php
ln -s index.php link.php
printf 'config at backup time\n' > wp-config.php`)
	sql("CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(64)); INSERT INTO posts VALUES (1, 'hello world'), (2, 'second');")
	state := func() string {
		return asSite(`find . -printf '%p %y %m %u %l\n' | sort; find . -type f ! -name wp-config.php -exec sha256sum {} + | sort`)
	}
	before := state()

	var files, dump bytes.Buffer
	if err := provision.ArchiveSiteFiles(ctx, h, site, &files); err != nil {
		t.Fatal(err)
	}
	if err := provision.DumpSiteDatabase(ctx, h, name, &dump); err != nil {
		t.Fatal(err)
	}
	if files.Len() < 300000 || dump.Len() == 0 {
		t.Fatalf("archive %d bytes, dump %d bytes", files.Len(), dump.Len())
	}

	asSite(`printf 'changed\n' > index.php; rm -rf wp-content; printf 'new\n' > extra.php
printf 'config rewritten since\n' > wp-config.php`)
	sql("DELETE FROM posts WHERE id = 1; CREATE TABLE later (id INT);")

	for run := 1; run <= 2; run++ {
		if err := provision.RestoreSiteFiles(ctx, h, site, bytes.NewReader(files.Bytes())); err != nil {
			t.Fatalf("restore files, run %d: %v", run, err)
		}
		if err := provision.RestoreSiteDatabase(ctx, h, name, bytes.NewReader(dump.Bytes())); err != nil {
			t.Fatalf("restore database, run %d: %v", run, err)
		}
		if after := state(); after != before {
			t.Fatalf("run %d: files after the restore differ:\n%s\nwant:\n%s", run, after, before)
		}
		if got := asSite("cat wp-config.php"); got != "config rewritten since\n" {
			t.Fatalf("run %d: wp-config.php is %q, want the site's current one", run, got)
		}
		if got := sql("SELECT GROUP_CONCAT(title ORDER BY id) FROM posts"); got != "hello world,second" {
			t.Fatalf("run %d: rows %q", run, got)
		}
		if got := sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"); got != "1" {
			t.Fatalf("run %d: %s tables, want only posts", run, got)
		}
	}
	leftovers, err := th.Exec(t, "sh", "-c", `ls -A "$1"`, "sh", site.Home())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(leftovers, ".chom-") {
		t.Fatalf("the restore left staging directories behind: %q", leftovers)
	}

	// A stream that breaks half-way: nothing is swapped in.
	asSite(`printf 'live edit\n' > index.php`)
	live := state()
	broken := io.MultiReader(bytes.NewReader(files.Bytes()[:files.Len()/2]), failingReader{})
	if err := provision.RestoreSiteFiles(ctx, h, site, broken); err == nil {
		t.Fatal("a restore from a broken stream succeeded")
	}
	if after := state(); after != live {
		t.Fatalf("a failed restore changed the site:\n%s\nwant:\n%s", after, live)
	}
	// A restore of anything but a site archive is refused, not applied.
	var notSite bytes.Buffer
	if err := provision.DumpSiteDatabase(ctx, h, name, &notSite); err != nil {
		t.Fatal(err)
	}
	if err := provision.RestoreSiteFiles(ctx, h, site, &notSite); err == nil {
		t.Fatal("a database dump was restored as files")
	}
	if after := state(); after != live {
		t.Fatal("a refused restore changed the site")
	}
	// A dump of a database that does not exist fails rather than
	// producing an empty dump.
	if err := provision.DumpSiteDatabase(ctx, h, "site0000000000000000", io.Discard); err == nil {
		t.Fatal("dumping a missing database succeeded")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("the archive stream broke") }
