package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/testhost"
)

// apiClient calls a control plane the benchmark started.
type apiClient struct {
	base, token string
	http        *http.Client
}

// do sends a JSON request and decodes the answer, which must have status want.
func (c *apiClient) do(ctx context.Context, method, path string, body any, want int) (map[string]any, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return out, nil
}

// wait polls an operation until it has finished and returns it.
func (c *apiClient) wait(ctx context.Context, opID string, within time.Duration) (map[string]any, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		op, err := c.do(ctx, http.MethodGet, "/api/v1/operations/"+opID, nil, http.StatusOK)
		if err != nil {
			return nil, err
		}
		if op["status"] == "succeeded" || op["status"] == "failed" {
			return op, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("operation %s did not finish within %s", opID, within)
}

// field reads a string at a path of nested objects.
func field(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		obj, _ := cur.(map[string]any)
		cur = obj[p]
	}
	s, _ := cur.(string)
	return s
}

// fleet is a control plane with the test hosts registered, for the
// benchmarks that provision.
type fleet struct {
	srv   *child
	api   *apiClient
	hosts []testhost.Host
	vps   []string // VPS id per host
	dir   string
}

func newFleet(ctx context.Context, o options) (_ *fleet, err error) {
	hosts, err := testhost.Running()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "chom-bench-fleet-")
	if err != nil {
		return nil, err
	}
	f := &fleet{hosts: hosts, dir: dir}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	f.srv, err = startServer(o.serverBin, dir, map[string]string{
		"CHOM_ALLOWED_NETWORKS": "10.77.0.0/16", "CHOM_RATE_LIMIT": "1000000", "CHOM_LOG_FORMAT": "json",
	})
	if err != nil {
		return nil, err
	}
	f.api = &apiClient{base: f.srv.URL, http: &http.Client{Timeout: 30 * time.Second}}
	sess, err := f.api.do(ctx, http.MethodPost, "/api/v1/auth/register", map[string]string{
		"name": "Bench", "email": "bench-" + strings.ToLower(rand.Text()[:8]) + "@example.com",
		"password": rand.Text(), "organization_name": "Bench",
	}, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	f.api.token = field(sess, "token", "token")
	for _, h := range hosts {
		out, err := f.api.do(ctx, http.MethodPost, "/api/v1/vps", map[string]any{
			"name": "bench-" + h.Name, "host": h.Address, "port": h.SSHPort, "ssh_user": h.User,
			"ssh_private_key": string(h.PrivateKey), "expected_host_key_fingerprint": h.HostKeyFingerprint, "capacity": 1000,
		}, http.StatusAccepted)
		if err != nil {
			return nil, err
		}
		op, err := f.api.wait(ctx, field(out, "operation", "id"), 5*time.Minute)
		if err != nil {
			return nil, err
		}
		if op["status"] != "succeeded" {
			return nil, fmt.Errorf("bootstrap of %s: %v", h.Name, op["error"])
		}
		f.vps = append(f.vps, field(out, "vps", "id"))
	}
	return f, nil
}

// deleteSites removes sites the benchmark made and waits for it.
func (f *fleet) deleteSites(ctx context.Context, ids []string) {
	var ops []string
	for _, id := range ids {
		out, err := f.api.do(ctx, http.MethodDelete, "/api/v1/sites/"+id, nil, http.StatusAccepted)
		if err != nil {
			progress("clean up site %s: %v", id, err)
			continue
		}
		ops = append(ops, field(out, "operation", "id"))
	}
	for _, op := range ops {
		if _, err := f.api.wait(ctx, op, 5*time.Minute); err != nil {
			progress("clean up: %v", err)
		}
	}
}

func (f *fleet) close() {
	f.srv.stop()
	_ = os.RemoveAll(f.dir)
}

// firstPage polls http://<host>/ with the Host header name until nginx
// answers 200 with a page naming it, and returns when it did.
func firstPage(ctx context.Context, h testhost.Host, name string, within time.Duration) (time.Time, error) {
	addr := net.JoinHostPort(h.Address, strconv.Itoa(h.HTTPPort))
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			return time.Time{}, err
		}
		req.Host = name
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(name)) {
				return time.Now(), nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("http://%s/ never answered 200 for %s within %s", addr, name, within)
}

type htmlFigures struct {
	CHOM, Manual latencies
}

// manualSite is the baseline: the least work that makes nginx serve a
// page for a new name — a directory, an index, a server block and a
// reload — in one command over a pooled SSH connection.
const manualSite = `set -e
mkdir -p "/srv/chom-bench/$1"
printf '<h1>%s</h1>\n' "$2" > "/srv/chom-bench/$1/index.html"
printf 'server {\n\tlisten 80;\n\tserver_name %s;\n\troot /srv/chom-bench/%s;\n}\n' "$2" "$1" > "/etc/nginx/conf.d/zz-chom-bench-$1.conf"
nginx -t -q
nginx -s reload`

const manualCleanup = `rm -rf /srv/chom-bench /etc/nginx/conf.d/zz-chom-bench-*.conf && nginx -s reload`

// benchHTML times static sites from the POST that creates them to the
// first 200 nginx serves for their name, alternating between the test
// hosts, one at a time; then the manual baseline on the same hosts.
func benchHTML(ctx context.Context, o options) (*htmlFigures, error) {
	f, err := newFleet(ctx, o)
	if err != nil {
		return nil, err
	}
	defer f.close()
	var chom, manual []time.Duration
	var created []string
	defer func() { f.deleteSites(context.Background(), created) }()
	stamp := strings.ToLower(rand.Text()[:6])
	progress("html: %d static sites, POST to first 200, across %d hosts", o.htmlSites, len(f.hosts))
	for i := range o.htmlSites {
		n := i % len(f.hosts)
		domain := fmt.Sprintf("bench-%s-%d.example.test", stamp, i)
		start := time.Now()
		out, err := f.api.do(ctx, http.MethodPost, "/api/v1/sites", map[string]any{"domain": domain, "type": "html", "vps_id": f.vps[n]}, http.StatusAccepted)
		if err != nil {
			return nil, err
		}
		created = append(created, field(out, "site", "id"))
		at, err := firstPage(ctx, f.hosts[n], domain, time.Minute)
		if err != nil {
			return nil, err
		}
		chom = append(chom, at.Sub(start))
		op, err := f.api.wait(ctx, field(out, "operation", "id"), 5*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", domain, err)
		}
		if op["status"] != "succeeded" {
			return nil, fmt.Errorf("create %s: %v", domain, op["error"])
		}
	}

	ssh := sshx.New(sshx.Options{})
	defer func() { _ = ssh.Close() }()
	targets := make([]sshx.Target, len(f.hosts))
	for i, h := range f.hosts {
		targets[i] = sshx.Target{Host: h.Address, Port: h.SSHPort, User: h.User, PrivateKey: h.PrivateKey, HostKey: h.HostPublicKey}
		// Connected before timing, as CHOM's pool is by then.
		if _, err := ssh.Run(ctx, targets[i], sshx.Command{Args: []string{"true"}}); err != nil {
			return nil, err
		}
		defer func() {
			if _, err := ssh.Run(context.Background(), targets[i], sshx.Script{Body: manualCleanup}.Command()); err != nil {
				progress("clean up the manual sites on %s: %v", f.hosts[i].Name, err)
			}
		}()
	}
	for i := range o.htmlSites {
		n := i % len(f.hosts)
		name := fmt.Sprintf("m%s%d", stamp, i)
		domain := fmt.Sprintf("manual-%s-%d.example.test", stamp, i)
		start := time.Now()
		if _, err := ssh.Run(ctx, targets[n], sshx.Script{Body: manualSite, Args: []string{name, domain}}.Command()); err != nil {
			return nil, fmt.Errorf("manual site: %w", err)
		}
		at, err := firstPage(ctx, f.hosts[n], domain, time.Minute)
		if err != nil {
			return nil, err
		}
		manual = append(manual, at.Sub(start))
	}
	return &htmlFigures{CHOM: sorted(chom), Manual: sorted(manual)}, nil
}

func (t *table) html(f *htmlFigures, err error) {
	if err != nil {
		t.failed("html site to first page", err)
		return
	}
	p50 := f.CHOM.percentile(50)
	t.add(row{
		Measure: fmt.Sprintf("html site: POST to first 200 from nginx, p50 of %d (max %s)", len(f.CHOM), ms(f.CHOM[len(f.CHOM)-1])),
		CHOM:    ms(p50), Baseline: ms(f.Manual.percentile(50)) + " (by hand over ssh)",
		Ratio: fmt.Sprintf("%.1f×", float64(p50)/float64(f.Manual.percentile(50))), Target: "< 2 s", Result: verdict(p50 < 2*time.Second),
	})
}
