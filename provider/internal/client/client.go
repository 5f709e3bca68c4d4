// Package client talks to the CHOM control plane API. It has its own wire
// types, takes a context first on every call, returns *Error for every
// answer the server rejected, and retries what is safe to retry.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Defaults used when Config leaves a field zero.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxRetries     = 4
	DefaultMinRetryWait   = 500 * time.Millisecond
	DefaultMaxRetryWait   = 30 * time.Second
	DefaultMinPollWait    = 1 * time.Second
	DefaultMaxPollWait    = 15 * time.Second
)

// maxErrorBody bounds how much of a non-JSON error body ends up in a message.
const maxErrorBody = 512

// Config configures a Client.
type Config struct {
	// Endpoint is the control plane's base URL, such as https://chom.example.com.
	Endpoint string
	// Token is the API token sent as a bearer token; empty sends none,
	// which only signing up accepts.
	Token string
	// Version is the provider version reported in the User-Agent.
	Version string
	// RunID identifies the Terraform run (TFC_RUN_ID) in the server's audit log.
	RunID string
	// RequestTimeout bounds one attempt of one request.
	RequestTimeout time.Duration
	// MaxRetries is how many times a failed request that is safe to repeat
	// is sent again. Negative means none; zero means DefaultMaxRetries.
	MaxRetries int
	// MinRetryWait and MaxRetryWait bound the exponential backoff between
	// attempts; a server's Retry-After takes precedence.
	MinRetryWait time.Duration
	MaxRetryWait time.Duration
	// MinPollWait and MaxPollWait bound the backoff of WaitForOperation.
	MinPollWait time.Duration
	MaxPollWait time.Duration
	// HTTPClient sends the requests; nil means a client with default transport.
	HTTPClient *http.Client
}

// Client is a CHOM API client. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	token      string
	userAgent  string
	runID      string
	timeout    time.Duration
	maxRetries int
	retryWait  backoff
	pollWait   backoff
	http       *http.Client
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	base, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	c := &Client{
		base:       base,
		token:      cfg.Token,
		userAgent:  "terraform-provider-chom/" + version,
		runID:      cfg.RunID,
		timeout:    orDefault(cfg.RequestTimeout, DefaultRequestTimeout),
		maxRetries: cfg.MaxRetries,
		retryWait:  backoff{min: orDefault(cfg.MinRetryWait, DefaultMinRetryWait), max: orDefault(cfg.MaxRetryWait, DefaultMaxRetryWait)},
		pollWait:   backoff{min: orDefault(cfg.MinPollWait, DefaultMinPollWait), max: orDefault(cfg.MaxPollWait, DefaultMaxPollWait)},
		http:       cfg.HTTPClient,
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	return c, nil
}

func parseEndpoint(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("endpoint is empty")
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL with a host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q: must not carry a query or fragment", raw)
	}
	return u, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// request is one API call, possibly sent several times.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	// idempotencyKey makes a POST safe to repeat: the server replays the
	// first answer to a request carrying the same key.
	idempotencyKey string
	// repeatable marks a call that is safe to send again although its
	// method is not idempotent by definition (a PATCH setting absolute values).
	repeatable bool
}

func (r *request) retryable() bool {
	switch r.method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return r.repeatable || (r.method == http.MethodPost && r.idempotencyKey != "")
}

// do sends req, retrying when that is safe and the failure is transient,
// and decodes a successful JSON answer into out (when out is not nil).
func (c *Client) do(ctx context.Context, req request, out any) error {
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return fmt.Errorf("encode %s %s: %w", req.method, req.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		wait, err := c.attempt(ctx, req, payload, out)
		if err == nil {
			return nil
		}
		if wait < 0 || ctx.Err() != nil || !req.retryable() || attempt >= c.maxRetries {
			return err
		}
		if wait == 0 {
			wait = c.retryWait.delay(attempt)
		}
		tflog.Debug(ctx, "retrying CHOM API request", map[string]any{
			"method": req.method, "path": req.path, "attempt": attempt + 1, "wait": wait.String(), "error": err.Error(),
		})
		if werr := sleep(ctx, wait); werr != nil {
			return fmt.Errorf("%s %s: stopped waiting to retry: %w", req.method, req.path, errors.Join(werr, err))
		}
	}
}

// attempt sends req once. It returns how long to wait before trying again:
// negative when the failure is not transient, zero for the default backoff,
// or what the server asked for in Retry-After.
func (c *Client) attempt(ctx context.Context, req request, payload []byte, out any) (time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// req.path is already escaped; joining by hand keeps an id such as
	// ".." from being cleaned into another route.
	target := c.base.String() + req.path
	if q := req.query.Encode(); q != "" {
		target += "?" + q
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(actx, req.method, target, body)
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	if req.idempotencyKey != "" {
		hr.Header.Set("Idempotency-Key", req.idempotencyKey)
	}
	if c.runID != "" {
		hr.Header.Set("X-Chom-Run-Id", c.runID)
	}

	start := time.Now()
	resp, err := c.http.Do(hr)
	if err != nil {
		// The connection failed or the attempt timed out: transient unless
		// the caller's own context ended, which do checks.
		return 0, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: read response: %w", req.method, req.path, err)
	}
	tflog.Debug(ctx, "CHOM API request", map[string]any{
		"method": req.method, "path": req.path, "status": resp.StatusCode,
		"duration": time.Since(start).String(), "request_id": resp.Header.Get("X-Request-Id"),
	})

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(raw) == 0 {
			return 0, nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return -1, fmt.Errorf("%s %s: decode response: %w", req.method, req.path, err)
		}
		return 0, nil
	}

	apiErr := parseError(resp, raw)
	if !transient(apiErr) {
		return -1, apiErr
	}
	return retryAfter(resp.Header.Get("Retry-After"), time.Now()), apiErr
}

// transient reports whether a rejection is worth retrying: rate limiting,
// server-side failures (except a route the server will never implement),
// and an earlier attempt with the same Idempotency-Key still in progress,
// which the server answers from its replay store once it completes.
func transient(e *Error) bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode >= 500:
		return e.StatusCode != http.StatusNotImplemented
	case e.StatusCode == http.StatusConflict:
		return e.Code == "idempotency_in_progress"
	}
	return false
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); zero
// means absent or unusable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// backoff is exponential with jitter: attempt n waits a random duration in
// [d/2, d] where d = min·2ⁿ capped at max, so that many clients failing
// together do not come back together.
type backoff struct {
	min, max time.Duration
}

func (b backoff) delay(attempt int) time.Duration {
	d := float64(b.min) * math.Pow(2, float64(attempt))
	if d > float64(b.max) || math.IsInf(d, 1) {
		d = float64(b.max)
	}
	half := time.Duration(d / 2)
	return half + mathrand.N(half+1) //nolint:gosec // jitter spreads retries; it guards no secret
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newIdempotencyKey returns a random UUID; one key covers every attempt of
// one create, so the server replays instead of creating twice.
func newIdempotencyKey() string { return uuid.NewString() }
