package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// VPS statuses.
const (
	VPSPending      = "pending"
	VPSProvisioning = "provisioning"
	VPSActive       = "active"
	VPSUnreachable  = "unreachable"
	VPSError        = "error"
)

// VPS is a server registered with CHOM, which hosts sites. Its private key
// is never returned.
type VPS struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	SSHUser string `json:"ssh_user"`
	// ExpectedHostKeyFingerprint is the only host key fingerprint accepted,
	// when set.
	ExpectedHostKeyFingerprint *string           `json:"expected_host_key_fingerprint"`
	Labels                     map[string]string `json:"labels"`
	Capacity                   int               `json:"capacity"`
	Status                     string            `json:"status"`
	// HostKeyFingerprint and HostPublicKey are the pinned host key; null
	// until the first connection.
	HostKeyFingerprint *string    `json:"host_key_fingerprint"`
	HostPublicKey      *string    `json:"host_public_key"`
	OS                 *string    `json:"os"`
	CPUCount           *int64     `json:"cpu_count"`
	MemoryBytes        *int64     `json:"memory_bytes"`
	DiskBytes          *int64     `json:"disk_bytes"`
	PHPVersions        []string   `json:"php_versions"`
	LastHealth         *VPSHealth `json:"last_health"`
	SitesAllocated     int        `json:"sites_allocated"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// VPSHealth is the latest health check of a server.
type VPSHealth struct {
	CheckedAt        time.Time `json:"checked_at"`
	Reachable        bool      `json:"reachable"`
	Load1            float64   `json:"load1"`
	MemoryUsedBytes  int64     `json:"memory_used_bytes"`
	MemoryTotalBytes int64     `json:"memory_total_bytes"`
	DiskUsedBytes    int64     `json:"disk_used_bytes"`
	DiskTotalBytes   int64     `json:"disk_total_bytes"`
	NginxRunning     bool      `json:"nginx_running"`
	PHPFPMRunning    bool      `json:"php_fpm_running"`
	Error            *string   `json:"error"`
}

// vpsWithOperation is the answer to the requests that may start work on a
// server.
type vpsWithOperation struct {
	VPS       VPS        `json:"vps"`
	Operation *Operation `json:"operation"`
}

// VPSList is one page of servers.
type VPSList struct {
	Data       []VPS      `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// VPSListOptions filters and pages a server list; zero values are omitted.
type VPSListOptions struct {
	Status string
	// Name selects the one server of that name.
	Name   string
	Limit  int
	Offset int
}

func (o VPSListOptions) query() url.Values {
	q := url.Values{}
	if o.Status != "" {
		q.Set("status", o.Status)
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	setPage(q, o.Limit, o.Offset)
	return q
}

// VPSCreateOptions registers a server; nil fields take the server's
// defaults (port 22, user root, capacity 50, no expected fingerprint).
type VPSCreateOptions struct {
	Name                       string            `json:"name"`
	Host                       string            `json:"host"`
	Port                       *int              `json:"port,omitempty"`
	SSHUser                    *string           `json:"ssh_user,omitempty"`
	SSHPrivateKey              string            `json:"ssh_private_key"`
	ExpectedHostKeyFingerprint *string           `json:"expected_host_key_fingerprint,omitempty"`
	Labels                     map[string]string `json:"labels,omitempty"`
	Capacity                   *int              `json:"capacity,omitempty"`
}

func (o VPSCreateOptions) valid() error {
	switch {
	case o.Name == "":
		return errors.New("name is required")
	case o.Host == "":
		return errors.New("host is required")
	case o.SSHPrivateKey == "":
		return errors.New("ssh private key is required")
	}
	return nil
}

// VPSUpdateOptions changes a server; nil fields are left as they are.
// Changing the port, user, key or expected fingerprint makes the server
// connect again, which the returned operation does.
type VPSUpdateOptions struct {
	Name    *string `json:"name,omitempty"`
	Port    *int    `json:"port,omitempty"`
	SSHUser *string `json:"ssh_user,omitempty"`
	// SSHPrivateKey replaces the stored key.
	SSHPrivateKey *string `json:"ssh_private_key,omitempty"`
	// ExpectedHostKeyFingerprint set to "" stops expecting a fingerprint.
	ExpectedHostKeyFingerprint *string `json:"expected_host_key_fingerprint,omitempty"`
	// Labels replaces every label; an empty map removes them all.
	Labels   *map[string]string `json:"labels,omitempty"`
	Capacity *int               `json:"capacity,omitempty"`
}

func (o VPSUpdateOptions) valid() error {
	if o == (VPSUpdateOptions{}) {
		return errors.New("nothing to update")
	}
	return nil
}

// reconnects reports whether the change makes the server connect again.
func (o VPSUpdateOptions) reconnects() bool {
	return o.Port != nil || o.SSHUser != nil || o.SSHPrivateKey != nil || o.ExpectedHostKeyFingerprint != nil
}

// VPSDeleteOptions removes a server from CHOM.
type VPSDeleteOptions struct {
	// Force removes it although sites are allocated to it; they stay in
	// CHOM, and on the server, until deleted.
	Force bool
}

// ListVPS returns one page of the organization's servers, by name.
func (c *Client) ListVPS(ctx context.Context, opts VPSListOptions) (*VPSList, error) {
	var out VPSList
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/vps", query: opts.query()}, &out); err != nil {
		return nil, fmt.Errorf("list vps: %w", err)
	}
	return &out, nil
}

// FindVPSByName returns the server with the name, or an error satisfying
// IsNotFound.
func (c *Client) FindVPSByName(ctx context.Context, name string) (*VPS, error) {
	page, err := c.ListVPS(ctx, VPSListOptions{Name: name, Limit: 1})
	if err != nil {
		return nil, err
	}
	for i := range page.Data {
		if page.Data[i].Name == name {
			return &page.Data[i], nil
		}
	}
	return nil, &Error{StatusCode: http.StatusNotFound, Code: "not_found", Message: "no VPS named " + strconv.Quote(name)}
}

// CreateVPS registers a server and returns it with the bootstrap operation
// to wait for. The request carries an Idempotency-Key so that a retry
// after a lost answer does not register it twice.
func (c *Client) CreateVPS(ctx context.Context, opts VPSCreateOptions) (*VPS, *Operation, error) {
	if err := opts.valid(); err != nil {
		return nil, nil, fmt.Errorf("create vps: %w", err)
	}
	var out vpsWithOperation
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/v1/vps", body: opts, idempotencyKey: newIdempotencyKey()}, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("create vps: %w", err)
	}
	return &out.VPS, out.Operation, nil
}

// VPS returns one server by id.
func (c *Client) VPS(ctx context.Context, id string) (*VPS, error) {
	if id == "" {
		return nil, errors.New("get vps: id is empty")
	}
	var out VPS
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/vps/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("get vps %s: %w", id, err)
	}
	return &out, nil
}

// UpdateVPS changes a server and returns it with the operation that
// connects to it again, or a nil operation when none was needed. A change
// that only sets values is retried like an idempotent method; one that
// starts an operation is not, as a second attempt would find it busy.
func (c *Client) UpdateVPS(ctx context.Context, id string, opts VPSUpdateOptions) (*VPS, *Operation, error) {
	if id == "" {
		return nil, nil, errors.New("update vps: id is empty")
	}
	if err := opts.valid(); err != nil {
		return nil, nil, fmt.Errorf("update vps %s: %w", id, err)
	}
	var out vpsWithOperation
	err := c.do(ctx, request{
		method: http.MethodPatch, path: "/api/v1/vps/" + url.PathEscape(id), body: opts, repeatable: !opts.reconnects(),
	}, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("update vps %s: %w", id, err)
	}
	return &out.VPS, out.Operation, nil
}

// DeleteVPS removes a server from CHOM; nothing on the server is touched.
// While sites are allocated to it the server refuses with the code
// "vps_has_sites", unless opts.Force is set.
func (c *Client) DeleteVPS(ctx context.Context, id string, opts VPSDeleteOptions) error {
	if id == "" {
		return errors.New("delete vps: id is empty")
	}
	var q url.Values
	if opts.Force {
		q = url.Values{"force": {"true"}}
	}
	if err := c.do(ctx, request{method: http.MethodDelete, path: "/api/v1/vps/" + url.PathEscape(id), query: q}, nil); err != nil {
		return fmt.Errorf("delete vps %s: %w", id, err)
	}
	return nil
}
