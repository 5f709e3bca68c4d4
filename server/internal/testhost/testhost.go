// Package testhost gives integration tests the local VPS test hosts started
// by scripts/testhosts/testhosts.sh: where to reach them over SSH and HTTP,
// and a way to look inside them that does not go through CHOM, so that tests
// can check what provisioning really did to a host.
package testhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// IntegrationEnv must be "1" for tests to use the hosts; without it,
	// Hosts skips the test.
	IntegrationEnv = "CHOM_INTEGRATION"
	// DirEnv overrides the state directory of testhosts.sh.
	DirEnv = "CHOM_TESTHOSTS_DIR"
	// DefaultDir is the state directory testhosts.sh uses by default.
	DefaultDir = "/tmp/chom-testhosts"

	scriptInModule = "scripts/testhosts/testhosts.sh"
	execTimeout    = 2 * time.Minute
	httpTimeout    = 15 * time.Second
	maxHTTPBody    = 1 << 20
)

// Host is one running test host, as described by hosts.json.
type Host struct {
	// Name is the host's handle for testhosts.sh: h1, h2, ...
	Name string
	// Address is the host's IP; SSH and HTTP are reachable there only.
	Address string
	SSHPort int
	// User logs in with PrivateKey; it is root.
	User           string
	PrivateKey     []byte
	PrivateKeyPath string
	// HostPublicKey is the host's SSH key in authorized_keys format without
	// a comment, e.g. "ssh-ed25519 AAAA...".
	HostPublicKey string
	// HostKeyFingerprint is the SHA256 fingerprint as ssh-keygen prints it.
	HostKeyFingerprint string
	HTTPPort           int

	script string
}

// hostRecord is the wire form of one entry of hosts.json.
type hostRecord struct {
	Name               string `json:"name"`
	Address            string `json:"address"`
	SSHPort            int    `json:"ssh_port"`
	User               string `json:"user"`
	PrivateKeyPath     string `json:"private_key_path"`
	HostPublicKey      string `json:"host_public_key"`
	HostKeyFingerprint string `json:"host_key_fingerprint"`
	HTTPPort           int    `json:"http_port"`
}

// Hosts returns the running test hosts. It skips the test unless
// CHOM_INTEGRATION=1 and fails it when the hosts are not up.
func Hosts(t testing.TB) []Host {
	t.Helper()
	if os.Getenv(IntegrationEnv) != "1" {
		t.Skipf("set %s=1 and start the test hosts to run this test", IntegrationEnv)
	}
	script, err := findScript()
	if err != nil {
		t.Fatalf("locate testhosts.sh: %v", err)
	}
	hosts, err := load(stateDir(), script)
	if err != nil {
		t.Fatalf("%v (start them with: sudo bash %s start)", err, script)
	}
	return hosts
}

func stateDir() string {
	if dir := os.Getenv(DirEnv); dir != "" {
		return dir
	}
	return DefaultDir
}

// load reads dir/hosts.json and the private key it points at.
func load(dir, script string) ([]Host, error) {
	path := filepath.Join(dir, "hosts.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("test hosts are not running: %s does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read hosts: %w", err)
	}
	var records []hostRecord
	if err := json.Unmarshal(data, &records); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s lists no hosts", path)
	}
	hosts := make([]Host, 0, len(records))
	for _, r := range records {
		if r.Name == "" || r.Address == "" || r.SSHPort == 0 || r.HTTPPort == 0 || r.HostPublicKey == "" {
			return nil, fmt.Errorf("%s: incomplete entry %+v", path, r)
		}
		key, err := os.ReadFile(r.PrivateKeyPath)
		if err != nil {
			return nil, fmt.Errorf("read private key of %s: %w", r.Name, err)
		}
		hosts = append(hosts, Host{
			Name:               r.Name,
			Address:            r.Address,
			SSHPort:            r.SSHPort,
			User:               r.User,
			PrivateKey:         key,
			PrivateKeyPath:     r.PrivateKeyPath,
			HostPublicKey:      r.HostPublicKey,
			HostKeyFingerprint: r.HostKeyFingerprint,
			HTTPPort:           r.HTTPPort,
			script:             script,
		})
	}
	return hosts, nil
}

// findScript locates testhosts.sh in the module the tests run from: a test
// binary starts in its package directory, below the go.mod.
var findScript = sync.OnceValues(func() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, scriptInModule)
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("find %s: %w", scriptInModule, err)
	}
	return script, nil
})

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	// A test binary run outside the tree still knows its module through go.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("no go.mod above %s and go env GOMOD failed: %w", dir, err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("no go.mod above %s", dir)
	}
	return filepath.Dir(gomod), nil
}

// SSHAddr is the host:port an SSH client dials.
func (h Host) SSHAddr() string {
	return net.JoinHostPort(h.Address, strconv.Itoa(h.SSHPort))
}

// Exec runs a command as root inside the host, outside of SSH and CHOM, and
// returns its standard output. The error carries the standard error.
func (h Host) Exec(t testing.TB, args ...string) (string, error) {
	t.Helper()
	if len(args) == 0 {
		return "", errors.New("exec: no command")
	}
	stdout, stderr, err := h.runScript(append([]string{"exec", h.Name, "--"}, args...)...)
	if err != nil {
		return stdout, fmt.Errorf("exec %q on %s: %w: %s", args, h.Name, err, strings.TrimSpace(stderr))
	}
	return stdout, nil
}

// StopSSHD stops the host's sshd, listener and open sessions alike, so the
// host looks unreachable until StartSSHD. The test's cleanup starts it again
// if the test does not.
func (h Host) StopSSHD(t testing.TB) {
	t.Helper()
	if _, stderr, err := h.runScript("stop-sshd", h.Name); err != nil {
		t.Fatalf("stop sshd on %s: %v: %s", h.Name, err, stderr)
	}
	t.Cleanup(func() {
		if _, stderr, err := h.runScript("start-sshd", h.Name); err != nil {
			t.Errorf("restart sshd on %s: %v: %s", h.Name, err, stderr)
		}
	})
}

// StartSSHD starts the host's sshd again and returns once it accepts logins.
func (h Host) StartSSHD(t testing.TB) {
	t.Helper()
	if _, stderr, err := h.runScript("start-sshd", h.Name); err != nil {
		t.Fatalf("start sshd on %s: %v: %s", h.Name, err, stderr)
	}
}

// runScript does not use the test's context: cleanups run after it is done.
func (h Host) runScript(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{h.script}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	// A daemon started through Exec may keep the pipes open.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// HTTPGet sends GET path with the given Host header to the host's own
// address, never anywhere else: no proxy, and redirects are returned rather
// than followed.
func (h Host) HTTPGet(t testing.TB, hostHeader, path string) (status int, body string, err error) {
	t.Helper()
	addr := net.JoinHostPort(h.Address, strconv.Itoa(h.HTTPPort))
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout: httpTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "tcp", addr)
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", fmt.Errorf("http get %s: %w", path, err)
	}
	if hostHeader != "" {
		req.Host = hostHeader
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("http get %s on %s: %w", path, h.Name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	if err != nil {
		return resp.StatusCode, string(data), fmt.Errorf("read body of %s on %s: %w", path, h.Name, err)
	}
	return resp.StatusCode, string(data), nil
}
