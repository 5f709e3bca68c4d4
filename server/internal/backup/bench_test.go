package backup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/testhost"
)

// BenchmarkBackupThroughput backs up and restores a site of about 100 MB
// (WordPress's 54 MB of PHP and text, and 50 MB of incompressible uploads)
// on a real test host (CHOM_INTEGRATION=1), through the code the backup
// and restore operations run: streamed over SSH, compressed on the host,
// hashed, encrypted, fsynced into local storage and read back to verify;
// restored after a verification pass, extracted aside and swapped in. In
// the same iteration it runs the baseline, OpenSSH's `ssh host tar -c |
// cat > file` and `cat file | ssh host tar -x`, on the same files, and
// reports both throughputs (MB of site per second) and their ratio.
//
//	CHOM_INTEGRATION=1 go test -run '^$' -bench BackupThroughput -benchtime 3x ./server/internal/backup/
func BenchmarkBackupThroughput(b *testing.B) {
	th := testhost.Hosts(b)[0]
	ctx := context.Background()
	executor := sshx.New(sshx.Options{})
	b.Cleanup(func() { _ = executor.Close() })
	h := &provision.Host{Runner: executor, Target: sshx.Target{
		Host: th.Address, Port: th.SSHPort, User: th.User, PrivateKey: th.PrivateKey, HostKey: th.HostPublicKey,
	}}
	id := store.NewID()
	name, err := provision.SiteName(id)
	if err != nil {
		b.Fatal(err)
	}
	site := &store.Site{ID: id, OrganizationID: "bench", Type: provision.SiteHTML, Domain: name + ".example.test", SystemUser: name}
	spec := siteSpec(site)
	b.Cleanup(func() {
		if _, err := provision.RemoveSiteUser(name).Ensure(context.Background(), h); err != nil {
			b.Errorf("clean up: %v", err)
		}
	})
	for _, s := range []provision.Step{provision.SiteUser(spec), provision.SiteDirectories(spec)} {
		if _, err := s.Ensure(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	// The site's files, written as its user.
	if _, err := th.Exec(b, "runuser", "-u", name, "--", "sh", "-c", `set -e
cp -R -L /usr/share/wordpress/. "$1/"
mkdir -p "$1/wp-content/uploads"
i=0; while [ $i -lt 50 ]; do head -c 1048576 /dev/urandom > "$1/wp-content/uploads/photo-$i.jpg"; i=$((i + 1)); done`, "sh", spec.AppDir()); err != nil {
		b.Fatal(err)
	}
	out, err := th.Exec(b, "du", "-sb", spec.AppDir())
	if err != nil {
		b.Fatal(err)
	}
	siteBytes, err := strconv.ParseInt(strings.Fields(out)[0], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	tree := func() string {
		out, err := th.Exec(b, "sh", "-c", `cd "$1" && find . -type f -exec sha256sum {} + | sort | sha256sum`, "sh", spec.AppDir())
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	want := tree()

	dir := b.TempDir()
	box, err := secrets.New(bytes.Repeat([]byte{1}, secrets.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	keys, err := NewKeys(box)
	if err != nil {
		b.Fatal(err)
	}
	storage, err := NewLocalStorage(filepath.Join(dir, "backups"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Deps{Storage: storage, Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	ssh := sshCommand(b, th, dir)
	baselineFile := filepath.Join(dir, "baseline.tar")
	mbps := func(d time.Duration) float64 { return float64(siteBytes) / 1e6 / d.Seconds() }
	var stored int64

	var backup, backupBase, restore, restoreBase time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Baseline backup: tar | ssh | cat.
		start := time.Now()
		runShell(b, fmt.Sprintf("%s tar -C %s -cf - www > %s", ssh, spec.Home(), baselineFile))
		backupBase += time.Since(start)

		// CHOM's backup: stream, store, verify.
		bk := &store.Backup{ID: store.NewID(), OrganizationID: "bench", SiteID: id, SiteType: site.Type, Type: TypeFull, CreatedAt: time.Now()}
		comps := components(bk.Type, bk.SiteType)
		bk.StorageKey = storageKey(bk)
		start = time.Now()
		sum, size, err := s.writeArchive(ctx, func(string, ...any) {}, bk.StorageKey, bk, site, h, comps)
		if err == nil {
			err = verifyArchive(ctx, storage, keys, bk.StorageKey, bk.ID, sum, comps)
		}
		if err != nil {
			b.Fatal(err)
		}
		backup += time.Since(start)
		bk.SHA256, stored = sum, size

		// Baseline restore: cat | ssh | tar -x, into a directory aside.
		start = time.Now()
		runShell(b, fmt.Sprintf("%s 'rm -rf %[2]s/.bench && mkdir %[2]s/.bench && tar -C %[2]s/.bench -xf -' < %s", ssh, spec.Home(), baselineFile))
		restoreBase += time.Since(start)

		// CHOM's restore: verify, then stream, extract aside and swap.
		start = time.Now()
		err = verifyArchive(ctx, storage, keys, bk.StorageKey, bk.ID, bk.SHA256, comps)
		if err == nil {
			_, err = s.restoreComponent(ctx, bk, site, h, componentFiles)
		}
		if err != nil {
			b.Fatal(err)
		}
		restore += time.Since(start)
		if err := storage.Delete(ctx, bk.StorageKey); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := tree(); got != want {
		b.Fatal("the restored site differs from the original")
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64(siteBytes)/1e6, "site_MB")
	b.ReportMetric(float64(stored)/1e6, "stored_MB")
	b.ReportMetric(mbps(backup/n), "backup_MB/s")
	b.ReportMetric(mbps(backupBase/n), "tar_ssh_cat_MB/s")
	b.ReportMetric(mbps(backup/n)/mbps(backupBase/n), "backup_ratio")
	b.ReportMetric(mbps(restore/n), "restore_MB/s")
	b.ReportMetric(mbps(restoreBase/n), "cat_ssh_tar_MB/s")
	b.ReportMetric(mbps(restore/n)/mbps(restoreBase/n), "restore_ratio")
}

// sshCommand returns the OpenSSH command line that runs a command on th,
// pinned to its host key, for the baseline.
func sshCommand(b *testing.B, th testhost.Host, dir string) string {
	b.Helper()
	knownHosts := filepath.Join(dir, "known_hosts")
	host := th.Address
	if th.SSHPort != 22 {
		host = fmt.Sprintf("[%s]:%d", th.Address, th.SSHPort)
	}
	line := host + " " + th.HostPublicKey + "\n"
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("ssh -q -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o IdentitiesOnly=yes -i %s -p %d %s@%s",
		knownHosts, th.PrivateKeyPath, th.SSHPort, th.User, th.Address)
}

func runShell(b *testing.B, script string) {
	b.Helper()
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", script, err, out)
	}
}
