// Package testacme runs a private ACME CA for tests: Pebble, with
// pebble-challtestsrv as the DNS server it resolves domains through. Both
// listen on loopback only, so tests can issue real certificates over HTTP-01
// without contacting any public CA or resolver; AddA points a made-up domain
// at a test host (or at a listener of the test itself).
//
// Pebble reads no persisted state and makes a new root on every start, so
// each Start gives an independent CA.
package testacme

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
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

const (
	// ToolsDirEnv names the directory holding the pebble and
	// pebble-challtestsrv binaries that .ci/install.sh builds.
	ToolsDirEnv = "CHOM_TOOLS_DIR"
	// integrationEnv set to 1 turns missing binaries from a skip into a
	// failure: an integration run must not pass by skipping.
	integrationEnv = "CHOM_INTEGRATION"

	startTimeout = 20 * time.Second
	startTries   = 3
)

// Options configures Start.
type Options struct {
	// HTTPPort is where Pebble connects for HTTP-01 validation. Default 80,
	// the port the test hosts' nginx listens on.
	HTTPPort int
}

// Server is a running Pebble and challenge test server.
type Server struct {
	// DirectoryURL is Pebble's ACME directory.
	DirectoryURL string
	// CAPool trusts the TLS certificate of Pebble's API (not the
	// certificates Pebble issues; see Roots).
	CAPool *x509.CertPool
	// CACertFile holds the same CA as PEM, for code configured by path.
	CACertFile string

	managementURL string // Pebble's management API (HTTPS)
	dnsURL        string // challtestsrv's management API (HTTP)
	client        *http.Client
}

// Start runs Pebble and its DNS server for the duration of the test. It
// skips the test when the binaries are not installed, unless
// CHOM_INTEGRATION=1.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.HTTPPort == 0 {
		opts.HTTPPort = 80
	}
	pebble, challsrv := findBinary(t, "pebble"), findBinary(t, "pebble-challtestsrv")
	dir := t.TempDir()
	apiCA, err := writeAPICertificate(dir)
	if err != nil {
		t.Fatalf("testacme: %v", err)
	}
	s := &Server{CAPool: x509.NewCertPool(), CACertFile: filepath.Join(dir, "ca.pem")}
	s.CAPool.AddCert(apiCA)
	s.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{RootCAs: s.CAPool},
		},
	}

	var dnsAddr string
	startWithFreePorts(t, "pebble-challtestsrv", func() (*process, error) {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		dnsAddr, s.dnsURL = loopback(ports[0]), "http://"+loopback(ports[1])
		p, err := startProcess(t, dir, challsrv, nil,
			"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
			"-dnsserver", dnsAddr,
			"-management", loopback(ports[1]),
			// Names without a record must not resolve to loopback, where
			// validation would reach whatever listens on this machine.
			"-defaultIPv4", "", "-defaultIPv6", "")
		if err != nil {
			return nil, err
		}
		return p, p.waitReady(func(ctx context.Context) error {
			return s.post(ctx, s.dnsURL+"/clear-request-history", map[string]string{"host": "testacme.invalid", "type": "dns"})
		})
	})

	startWithFreePorts(t, "pebble", func() (*process, error) {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		s.DirectoryURL = "https://" + loopback(ports[0]) + "/dir"
		s.managementURL = "https://" + loopback(ports[1])
		config, err := writeConfig(dir, ports[0], ports[1], opts.HTTPPort)
		if err != nil {
			return nil, err
		}
		env := []string{
			"PEBBLE_VA_NOSLEEP=1",
			"PEBBLE_VA_ALWAYS_VALID=0",
			"PEBBLE_WFE_NONCEREJECT=0",
			// Every order validates afresh: a test of a failing challenge
			// must not pass on an authorization left by an earlier one.
			"PEBBLE_AUTHZREUSE=0",
			"PEBBLE_ALTERNATE_ROOTS=0",
		}
		p, err := startProcess(t, dir, pebble, env, "-config", config, "-dnsserver", dnsAddr)
		if err != nil {
			return nil, err
		}
		return p, p.waitReady(func(ctx context.Context) error {
			_, err := s.get(ctx, s.DirectoryURL)
			return err
		})
	})
	return s
}

// AddA makes host (a domain name) resolve to addrs for Pebble.
func (s *Server) AddA(t testing.TB, host string, addrs ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body := map[string]any{"host": dnsName(host), "addresses": addrs}
	if err := s.post(ctx, s.dnsURL+"/add-a", body); err != nil {
		t.Fatalf("testacme: add A record for %s: %v", host, err)
	}
}

// ClearA removes the A records of host.
func (s *Server) ClearA(t testing.TB, host string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.post(ctx, s.dnsURL+"/clear-a", map[string]string{"host": dnsName(host)}); err != nil {
		t.Fatalf("testacme: clear A records of %s: %v", host, err)
	}
}

// Roots returns the root certificate Pebble issues under, fetched from its
// management API, for verifying served certificates.
func (s *Server) Roots(t testing.TB) *x509.CertPool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := s.get(ctx, s.managementURL+"/roots/0")
	if err != nil {
		t.Fatalf("testacme: fetch root: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("testacme: /roots/0 returned no PEM certificate")
	}
	return pool
}

func dnsName(host string) string { return strings.TrimSuffix(host, ".") + "." }

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func (s *Server) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return s.do(req)
}

func (s *Server) post(ctx context.Context, url string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	_, err = s.do(req)
	return err
}

func (s *Server) do(req *http.Request) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL, resp.Status, bytes.TrimSpace(data))
	}
	return data, nil
}

// findBinary looks in CHOM_TOOLS_DIR, then ~/.cache/chom/tools (where
// .ci/install.sh builds Pebble), then PATH.
func findBinary(t testing.TB, name string) string {
	t.Helper()
	var dirs []string
	if d := os.Getenv(ToolsDirEnv); d != "" {
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "chom", "tools"))
	}
	for _, d := range dirs {
		// With a slash in the name, LookPath only checks that file.
		if p, err := exec.LookPath(filepath.Join(d, name)); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("testacme: %s not found in %s or PATH; run .ci/install.sh", name, strings.Join(dirs, ", "))
	if os.Getenv(integrationEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startWithFreePorts retries start a few times: a port found free may be
// taken by someone else before the process binds it.
func startWithFreePorts(t testing.TB, name string, start func() (*process, error)) {
	t.Helper()
	var err error
	for range startTries {
		var p *process
		p, err = start()
		if err == nil {
			return
		}
		if p != nil {
			p.stop()
		}
	}
	t.Fatalf("testacme: start %s: %v", name, err)
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a started server with its output in a log file.
type process struct {
	kill   context.CancelFunc
	log    string
	exited chan struct{}
	err    error // set when exited is closed
}

func startProcess(t testing.TB, dir, bin string, env []string, args ...string) (*process, error) {
	logFile, err := os.CreateTemp(dir, filepath.Base(bin)+"-*.log")
	if err != nil {
		return nil, err
	}
	// Cancelling the context kills the process; that is how it stops.
	ctx, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		kill()
		logFile.Close()
		return nil, err
	}
	p := &process{kill: kill, log: logFile.Name(), exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("testacme: %s output:\n%s", filepath.Base(bin), p.tail(4096))
		}
	})
	return p, nil
}

// waitReady polls ready until it succeeds, the process exits or the start
// timeout passes.
func (p *process) waitReady(ready func(ctx context.Context) error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited early: %w; output: %s", cmp.Or(p.err, errors.New("exit status 0")), p.tail(1024))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", startTimeout, err)
		}
	}
}

func (p *process) stop() {
	p.kill()
	<-p.exited
}

func (p *process) tail(n int) string {
	data, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// writeConfig writes Pebble's configuration and returns its path.
func writeConfig(dir string, apiPort, managementPort, httpPort int) (string, error) {
	config := map[string]any{
		"pebble": map[string]any{
			"listenAddress":                  loopback(apiPort),
			"managementListenAddress":        loopback(managementPort),
			"certificate":                    filepath.Join(dir, "api.pem"),
			"privateKey":                     filepath.Join(dir, "api.key"),
			"httpPort":                       httpPort,
			"tlsPort":                        443,
			"ocspResponderURL":               "",
			"externalAccountBindingRequired": false,
			"keyAlgorithm":                   "ecdsa",
			// Pebble's default of 3s and 5s would slow every test.
			"retryAfter": map[string]int{"authz": 1, "order": 1},
			"profiles": map[string]any{
				"default": map[string]any{"description": "90-day certificates", "validityPeriod": 90 * 24 * 3600},
			},
		},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "pebble-config.json")
	return path, os.WriteFile(path, data, 0o600)
}

// writeAPICertificate creates a throwaway CA and, signed by it, the TLS
// certificate of Pebble's API for 127.0.0.1, and writes ca.pem, api.pem and
// api.key to dir. A fresh CA per run keeps tests from depending on where the
// Go module cache keeps Pebble's own test certificates.
func writeAPICertificate(dir string) (*x509.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testacme API CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	files := map[string]*pem.Block{
		"ca.pem":  {Type: "CERTIFICATE", Bytes: caDER},
		"api.pem": {Type: "CERTIFICATE", Bytes: leafDER},
		"api.key": {Type: "PRIVATE KEY", Bytes: keyDER},
	}
	for name, block := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	return ca, nil
}
