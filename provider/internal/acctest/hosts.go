package acctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Test hosts: real servers (sshd, nginx, PHP-FPM, MariaDB) in network
// namespaces of this machine, started by scripts/testhosts/testhosts.sh.
const (
	// EnvIntegration must be 1 for tests that use the test hosts.
	EnvIntegration = "CHOM_INTEGRATION"
	// EnvTestHostsDir overrides the state directory of testhosts.sh.
	EnvTestHostsDir = "CHOM_TESTHOSTS_DIR"
	// AllowedNetworks holds the test hosts' addresses; the control plane
	// refuses to connect to private addresses outside it.
	AllowedNetworks = "10.77.0.0/16"

	defaultTestHostsDir = "/tmp/chom-testhosts"
	testHostsScript     = "scripts/testhosts/testhosts.sh"
	hostExecTimeout     = 2 * time.Minute
	maxHTTPBody         = 1 << 20
)

// Host is one running test host, as hosts.json describes it.
type Host struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	SSHPort int    `json:"ssh_port"`
	User    string `json:"user"`
	// PrivateKeyPath is the key that logs in as User.
	PrivateKeyPath string `json:"private_key_path"`
	// HostPublicKey is the host's SSH key in authorized_keys format.
	HostPublicKey string `json:"host_public_key"`
	// HostKeyFingerprint is its SHA256 fingerprint as ssh-keygen prints it.
	HostKeyFingerprint string `json:"host_key_fingerprint"`
	HTTPPort           int    `json:"http_port"`

	script string
}

// Hosts returns the running test hosts, at least min of them. It skips
// the test unless TF_ACC and CHOM_INTEGRATION are set, and fails it when
// the hosts are not running.
func Hosts(t *testing.T, min int) []Host {
	t.Helper()
	PreCheck(t)
	if os.Getenv(EnvIntegration) != "1" {
		t.Skipf("set %s=1 and start the test hosts (%s start) to run this test", EnvIntegration, testHostsScript)
	}
	dir := os.Getenv(EnvTestHostsDir)
	if dir == "" {
		dir = defaultTestHostsDir
	}
	// The directory is the developer's own setting for testhosts.sh.
	data, err := os.ReadFile(filepath.Join(dir, "hosts.json")) //nolint:gosec // see above
	if err != nil {
		t.Fatalf("test hosts are not running (start them with: bash %s start): %v", testHostsScript, err)
	}
	var hosts []Host
	if err := json.Unmarshal(data, &hosts); err != nil {
		t.Fatalf("parse hosts.json: %v", err)
	}
	if len(hosts) < min {
		t.Fatalf("need %d test hosts, %s lists %d", min, dir, len(hosts))
	}
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	for i := range hosts {
		h := &hosts[i]
		if h.Address == "" || h.PrivateKeyPath == "" || h.HostKeyFingerprint == "" || h.HTTPPort == 0 {
			t.Fatalf("hosts.json: incomplete entry %+v", *h)
		}
		h.script = script
	}
	return hosts
}

// findScript locates testhosts.sh above the test's working directory,
// which is its package's directory in the module.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, testHostsScript), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s to find %s in", dir, testHostsScript)
		}
	}
}

// PrivateKey returns the private key that logs in to the host.
func (h Host) PrivateKey(t *testing.T) string {
	t.Helper()
	key, err := os.ReadFile(h.PrivateKeyPath)
	if err != nil {
		t.Fatalf("read the private key of %s: %v", h.Name, err)
	}
	return string(key)
}

// Exec runs a shell script as root inside the host, outside of SSH and
// CHOM, and returns its standard output.
func (h Host) Exec(script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hostExecTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", h.script, "exec", h.Name, "--", "sh", "-c", script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("on %s: %s: %w: %s", h.Name, script, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// HTTPGet sends GET path with the Host header to the host's own address,
// never anywhere else: no proxy, no redirects followed.
func (h Host) HTTPGet(hostHeader, path string) (int, string, error) {
	addr := net.JoinHostPort(h.Address, strconv.Itoa(h.HTTPPort))
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	c := &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "tcp", addr)
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = hostHeader
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET http://%s%s on %s: %w", hostHeader, path, h.Name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	return resp.StatusCode, string(body), err
}

// ExpectHTTP polls GET http://hostHeader/path on the host until it answers
// status with a body containing want, for up to 30 seconds (nginx reloads
// are not instant), and reports the last answer otherwise.
func (h Host) ExpectHTTP(hostHeader, path string, status int, want string) error {
	deadline := time.Now().Add(30 * time.Second)
	var got int
	var body string
	var err error
	for {
		got, body, err = h.HTTPGet(hostHeader, path)
		if err == nil && got == status && strings.Contains(body, want) {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Errorf("GET http://%s%s on %s (%s) = %d %q, want %d with %q", hostHeader, path, h.Name, h.Address, got, body, status, want)
}
