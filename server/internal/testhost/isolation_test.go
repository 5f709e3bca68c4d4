package testhost_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/testhost"
)

// These tests prove what the rest of the suite relies on: each test host is
// a separate machine as far as provisioning can tell, and nothing done on a
// host reaches another host or the machine running the tests.

func twoHosts(t *testing.T) (testhost.Host, testhost.Host) {
	t.Helper()
	hosts := testhost.Hosts(t)
	if len(hosts) < 2 {
		t.Fatalf("need at least 2 test hosts, have %d", len(hosts))
	}
	return hosts[0], hosts[1]
}

// uniqueName is a lowercase name that is valid for users and databases.
func uniqueName(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:10])
}

func TestHostsDescribeDistinctHosts(t *testing.T) {
	hosts := testhost.Hosts(t)
	if len(hosts) < 2 {
		t.Fatalf("need at least 2 test hosts, have %d", len(hosts))
	}
	seen := map[string]bool{}
	keyTypes := map[string]bool{}
	for _, h := range hosts {
		if seen[h.Address] || seen[h.HostPublicKey] {
			t.Errorf("%s shares its address or host key with another host", h.Name)
		}
		seen[h.Address], seen[h.HostPublicKey] = true, true
		if h.User != "root" || h.SSHPort != 22 || h.HTTPPort != 80 {
			t.Errorf("%s: user %q, ssh port %d, http port %d", h.Name, h.User, h.SSHPort, h.HTTPPort)
		}
		if !strings.Contains(string(h.PrivateKey), "PRIVATE KEY") {
			t.Errorf("%s: private key is not a private key", h.Name)
		}
		fields := strings.Fields(h.HostPublicKey)
		if len(fields) != 2 {
			t.Fatalf("%s: host key %q is not \"type base64\"", h.Name, h.HostPublicKey)
		}
		keyTypes[fields[0]] = true
		blob, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			t.Fatalf("%s: host key: %v", h.Name, err)
		}
		sum := sha256.Sum256(blob)
		if want := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]); h.HostKeyFingerprint != want {
			t.Errorf("%s: fingerprint %s, the key hashes to %s", h.Name, h.HostKeyFingerprint, want)
		}
	}
	if !keyTypes["ssh-ed25519"] || (!keyTypes["ssh-rsa"] && !keyTypes["ecdsa-sha2-nistp256"]) {
		t.Errorf("host key types %v: want ed25519 and RSA or ECDSA among the hosts", keyTypes)
	}
}

// sshRun logs in with the system ssh client, trusting only knownKey.
func sshRun(t *testing.T, h testhost.Host, knownKey, command string) (string, error) {
	t.Helper()
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(h.Address+" "+knownKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh", "-F", "/dev/null", "-i", h.PrivateKeyPath, "-p", strconv.Itoa(h.SSHPort),
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+knownHosts,
		h.User+"@"+h.Address, command).CombinedOutput()
	return string(out), err
}

func TestSSHLoginWithPinnedHostKey(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client on this machine")
	}
	h1, h2 := twoHosts(t)
	for _, h := range []testhost.Host{h1, h2} {
		out, err := sshRun(t, h, h.HostPublicKey, "hostname; id -u")
		if err != nil {
			t.Fatalf("ssh %s: %v\n%s", h.Name, err, out)
		}
		if want := "chom-" + h.Name + "\n0\n"; out != want {
			t.Errorf("ssh %s: got %q, want %q", h.Name, out, want)
		}
	}
	// A host presenting another key than the pinned one is refused.
	if out, err := sshRun(t, h1, h2.HostPublicKey, "true"); err == nil {
		t.Errorf("ssh %s accepted a host key other than the pinned one:\n%s", h1.Name, out)
	}
}

func TestExecRunsInsideTheHost(t *testing.T) {
	h1, h2 := twoHosts(t)
	for _, h := range []testhost.Host{h1, h2} {
		out, err := h.Exec(t, "hostname")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out); got != "chom-"+h.Name {
			t.Errorf("hostname on %s = %q", h.Name, got)
		}
		out, err = h.Exec(t, "ip", "-4", "-o", "addr", "show", "eth0")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, h.Address+"/") {
			t.Errorf("%s: eth0 does not carry %s:\n%s", h.Name, h.Address, out)
		}
	}
}

func TestFilesStayOnTheirHost(t *testing.T) {
	h1, h2 := twoHosts(t)
	path := "/var/www/" + uniqueName("chom-isolation-")
	if _, err := h1.Exec(t, "sh", "-c", `echo isolated > "$1"`, "sh", path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = h1.Exec(t, "rm", "-f", path) })

	if out, err := h1.Exec(t, "cat", path); err != nil || out != "isolated\n" {
		t.Fatalf("%s: cat %s = %q, %v", h1.Name, path, out, err)
	}
	if _, err := h2.Exec(t, "test", "-e", path); err == nil {
		t.Errorf("%s is visible on %s", path, h2.Name)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is visible on the machine running the tests (stat: %v)", path, err)
	}
}

func TestUsersStayOnTheirHost(t *testing.T) {
	h1, h2 := twoHosts(t)
	name := uniqueName("chomiso")
	if _, err := h1.Exec(t, "useradd", "--create-home", "--shell", "/bin/bash", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = h1.Exec(t, "userdel", "--remove", name) })

	if _, err := h1.Exec(t, "id", name); err != nil {
		t.Fatalf("user %s missing on %s right after useradd: %v", name, h1.Name, err)
	}
	if _, err := h1.Exec(t, "test", "-d", "/home/"+name); err != nil {
		t.Errorf("home of %s missing on %s: %v", name, h1.Name, err)
	}
	if _, err := h2.Exec(t, "id", name); err == nil {
		t.Errorf("user %s created on %s exists on %s", name, h1.Name, h2.Name)
	}
	if _, err := user.Lookup(name); err == nil {
		t.Errorf("user %s created on %s exists on the machine running the tests", name, h1.Name)
	}
	if _, err := os.Stat("/home/" + name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/home/%s exists on the machine running the tests (stat: %v)", name, err)
	}
}

func TestDatabasesStayOnTheirHost(t *testing.T) {
	h1, h2 := twoHosts(t)
	db := uniqueName("chomiso_")
	// Root logs in through the unix socket, as on a fresh Debian server.
	if _, err := h1.Exec(t, "mariadb", "-e", "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = h1.Exec(t, "mariadb", "-e", "DROP DATABASE IF EXISTS "+db) })

	out, err := h1.Exec(t, "mariadb", "-N", "-e", "SHOW DATABASES")
	if err != nil || !strings.Contains(out, db) {
		t.Fatalf("%s: database %s not listed: %v\n%s", h1.Name, db, err, out)
	}
	out, err = h2.Exec(t, "mariadb", "-N", "-e", "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, db) {
		t.Errorf("database %s created on %s is listed on %s", db, h1.Name, h2.Name)
	}
	if _, err := os.Stat(filepath.Join("/var/lib/mysql", db)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("database %s landed in the machine's /var/lib/mysql (stat: %v)", db, err)
	}
	// The hosts' MariaDB listens on their own loopback only.
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(h1.Address, "3306"), 3*time.Second); err == nil {
		conn.Close()
		t.Errorf("MariaDB of %s is reachable from outside the host", h1.Name)
	}
}

func TestMachineMariaDBUnaffected(t *testing.T) {
	testhost.Hosts(t)
	conn, err := net.DialTimeout("tcp", "127.0.0.1:3306", 3*time.Second)
	if err != nil {
		t.Skipf("no MariaDB on the machine's 127.0.0.1:3306: %v", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// The server speaks first: a 4-byte packet header, then protocol
	// version 10 and the server version.
	buf := make([]byte, 128)
	n, err := conn.Read(buf)
	if err != nil || n < 6 || buf[4] != 10 {
		t.Fatalf("machine's MariaDB did not greet: %d bytes, %v", n, err)
	}
	version, _, _ := strings.Cut(string(buf[5:n]), "\x00")
	if !strings.Contains(version, "MariaDB") {
		t.Errorf("127.0.0.1:3306 greets as %q", version)
	}

	// Starting the hosts did not restart the machine's server.
	pid, err := os.ReadFile("/run/mysqld/mysqld.pid")
	if err != nil {
		return
	}
	proc, err := os.Stat("/proc/" + strings.TrimSpace(string(pid)))
	if err != nil {
		t.Fatalf("machine's MariaDB pid file names no running process: %v", err)
	}
	dir := os.Getenv(testhost.DirEnv)
	if dir == "" {
		dir = testhost.DefaultDir
	}
	hostsFile, err := os.Stat(filepath.Join(dir, "hosts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if proc.ModTime().After(hostsFile.ModTime()) {
		t.Errorf("machine's MariaDB started at %v, after the test hosts (%v)", proc.ModTime(), hostsFile.ModTime())
	}
}

// Other packages' tests provision sites on the same hosts and may replace
// the default site, so any HTTP answer proves that nginx serves the host.
func TestNginxAnswers(t *testing.T) {
	h1, h2 := twoHosts(t)
	for _, h := range []testhost.Host{h1, h2} {
		status, body, err := h.HTTPGet(t, "chom-isolation.invalid", "/")
		if err != nil {
			t.Fatal(err)
		}
		if status < 200 || status > 599 {
			t.Errorf("%s: GET / = %d %.80q", h.Name, status, body)
		}
	}
}

func TestSSHDStopAndStart(t *testing.T) {
	hosts := testhost.Hosts(t)
	h := hosts[len(hosts)-1]
	reachable := func() bool {
		conn, err := net.DialTimeout("tcp", h.SSHAddr(), 3*time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
	if !reachable() {
		t.Fatalf("%s: sshd not reachable before the test", h.Name)
	}
	h.StopSSHD(t)
	if reachable() {
		t.Fatalf("%s: sshd still reachable after StopSSHD", h.Name)
	}
	if out, err := h.Exec(t, "true"); err != nil {
		t.Fatalf("%s: Exec must work while sshd is down: %v %s", h.Name, err, out)
	}
	h.StartSSHD(t)
	if !reachable() {
		t.Fatalf("%s: sshd not reachable after StartSSHD", h.Name)
	}
}
