package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chomhq/chom/server/internal/apitest"
)

func TestIdempotencyKey(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		a := e.Register(t, "acme")
		body := map[string]any{"name": "ci", "abilities": []string{"read"}}
		first := e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, body, apitest.Header("Idempotency-Key", "k-1"))
		if first.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.Status, first.Body)
		}
		replay := e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, body, apitest.Header("Idempotency-Key", "k-1"))
		if replay.Status != http.StatusCreated || string(replay.Body) != string(first.Body) || replay.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s (replayed=%q)", replay.Status, replay.Body, replay.Header.Get("Idempotent-Replayed"))
		}
		list := e.Do(t, http.MethodGet, "/api/v1/tokens", a.Token, nil).Map(t)
		if n := list["pagination"].(map[string]any)["total"].(float64); n != 2 {
			t.Fatalf("replay created another token: %v tokens", n)
		}
		other := e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, map[string]any{"name": "other", "abilities": []string{"read"}},
			apitest.Header("Idempotency-Key", "k-1"))
		if other.Status != http.StatusUnprocessableEntity || other.ErrorCode(t) != "idempotency_key_reused" {
			t.Fatalf("reuse with another body: %d %s", other.Status, other.Body)
		}
		// The stored response holds the token plaintext: it must be sealed.
		assertNotInTable(t, e.Server.Store.SQLDB(), "idempotency_keys", first.Map(t)["token"].(string))
	})
}

func TestIdempotencyConcurrentDuplicate(t *testing.T) {
	e := apitest.New(t)
	a := e.Register(t, "acme")
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, map[string]any{"name": "dup", "abilities": []string{"read"}},
				apitest.Header("Idempotency-Key", "same")).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Fatalf("unexpected status %d in %v", s, statuses)
		}
	}
	list := e.Do(t, http.MethodGet, "/api/v1/tokens", a.Token, nil).Map(t)
	if total := list["pagination"].(map[string]any)["total"].(float64); total != 2 {
		t.Fatalf("%d tokens after %d concurrent duplicates (statuses %v), want 2", int(total), n, statuses)
	}
	if created == 0 {
		t.Fatalf("no request succeeded: %v", statuses)
	}
}

func TestRequestBodies(t *testing.T) {
	e := apitest.New(t, apitest.WithEnv("CHOM_MAX_BODY_BYTES", "2048"))
	a := e.Register(t, "acme")
	cases := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"malformed", `{"name":`, 400, "malformed_json", ""},
		{"not an object", `[1,2]`, 400, "malformed_json", ""},
		{"empty", ``, 400, "empty_body", ""},
		{"trailing data", `{"name":"a","abilities":["read"]} {}`, 400, "malformed_json", ""},
		{"unknown field", `{"name":"a","abilities":["read"],"admin":true}`, 400, "unknown_field", "admin"},
		{"wrong type", `{"name":42,"abilities":["read"]}`, 422, "validation_failed", "name"},
		{"oversize", `{"name":"` + strings.Repeat("a", 4096) + `","abilities":["read"]}`, 413, "body_too_large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, tc.body, apitest.Invalid())
			if resp.Status != tc.status || resp.ErrorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.Status, resp.Body, tc.status, tc.code)
			}
			if tc.field != "" {
				if _, ok := resp.ErrorFields(t)[tc.field]; !ok {
					t.Fatalf("field %q not named: %s", tc.field, resp.Body)
				}
			}
			if resp.Map(t)["error"].(map[string]any)["request_id"] == "" {
				t.Fatal("no request id in error")
			}
		})
	}
	list := e.Do(t, http.MethodGet, "/api/v1/tokens", a.Token, nil).Map(t)
	if total := list["pagination"].(map[string]any)["total"].(float64); total != 1 {
		t.Fatalf("bad requests changed the database: %v tokens", total)
	}
}

func TestSecurityHeadersAndCORS(t *testing.T) {
	e := apitest.New(t, apitest.WithEnv("CHOM_CORS_ORIGINS", "https://console.example.com"))
	resp := e.Do(t, http.MethodGet, "/healthz", "", nil, apitest.Header("Origin", "https://console.example.com"))
	for k, want := range map[string]string{
		"X-Content-Type-Options":      "nosniff",
		"X-Frame-Options":             "DENY",
		"Referrer-Policy":             "no-referrer",
		"Access-Control-Allow-Origin": "https://console.example.com",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	other := e.Do(t, http.MethodGet, "/healthz", "", nil, apitest.Header("Origin", "https://evil.example.com"))
	if other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS allowed an origin that is not configured")
	}
	req, _ := http.NewRequest(http.MethodOptions, e.URL+"/api/v1/me", nil)
	req.Header.Set("Origin", "https://console.example.com")
	req.Header.Set("Access-Control-Request-Method", "GET")
	pre, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
}

func TestProbesAndMetrics(t *testing.T) {
	e := apitest.New(t)
	if r := e.Do(t, http.MethodGet, "/readyz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("readyz: %d", r.Status)
	}
	e.Do(t, http.MethodGet, "/api/v1/me", "", nil)
	m := e.Do(t, http.MethodGet, "/metrics", "", nil)
	for _, want := range []string{
		`chom_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1`,
		`chom_http_request_duration_seconds_bucket{method="GET",route="/readyz"`,
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	_ = e.Server.Store.Close()
	if r := e.Do(t, http.MethodGet, "/readyz", "", nil); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database closed: %d", r.Status)
	}
}

func TestRateLimitInProcess(t *testing.T) {
	e := apitest.New(t, apitest.WithEnv("CHOM_RATE_LIMIT", "5"))
	a := e.Register(t, "acme")
	var last *apitest.Response
	for i := range 6 {
		last = e.Do(t, http.MethodGet, "/api/v1/me", a.Token, nil)
		if i < 5 && last.Status != http.StatusOK {
			t.Fatalf("request %d: %d", i, last.Status)
		}
		if i < 5 && last.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(4-i) {
			t.Fatalf("request %d: remaining %q", i, last.Header.Get("X-RateLimit-Remaining"))
		}
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || last.Header.Get("X-RateLimit-Limit") != "5" {
		t.Fatalf("6th request: %d %v", last.Status, last.Header)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := apitest.New(t, apitest.WithEnv("CHOM_LOGIN_RATE_LIMIT", "3"))
	a := e.Register(t, "acme")
	for i := range 4 {
		resp := e.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": "wrong-password"})
		want := http.StatusUnauthorized
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if resp.Status != want {
			t.Fatalf("attempt %d: %d, want %d", i, resp.Status, want)
		}
	}
}

// TestRateLimitRedisOutage runs the limiter on Redis through a proxy the
// test cuts: the API keeps answering while Redis is unreachable and the
// limiter returns to Redis by itself when it is back.
func TestRateLimitRedisOutage(t *testing.T) {
	proxy := newTCPProxy(t, "127.0.0.1:6379")
	e := apitest.New(t, apitest.WithEnv("CHOM_REDIS_URL", "redis://"+proxy.Addr()+"/0"), apitest.WithEnv("CHOM_RATE_LIMIT", "1000"))
	a := e.Register(t, "acme")
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()

	call := func() *apitest.Response { return e.Do(t, http.MethodGet, "/api/v1/me", a.Token, nil) }
	r := call()
	if r.Status != http.StatusOK || r.Header.Get("X-RateLimit-Limit") != "1000" {
		t.Fatalf("with redis: %d %v", r.Status, r.Header)
	}
	key := "rate:chom:rl:tok:" + r.Map(t)["token_id"].(string)
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("limiter state not in redis (key %s): %d %v", key, n, err)
	}

	proxy.Cut()
	start := time.Now()
	for i := range 20 {
		if r := call(); r.Status != http.StatusOK || r.Header.Get("X-RateLimit-Remaining") == "" {
			t.Fatalf("request %d during the outage: %d %s", i, r.Status, r.Body)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("20 requests took %v during the outage: the limiter is waiting on Redis", d)
	}
	metrics := string(e.Do(t, http.MethodGet, "/metrics", "", nil).Body)
	if !strings.Contains(metrics, "chom_ratelimit_redis_errors_total") || strings.Contains(metrics, "chom_ratelimit_redis_errors_total 0") {
		t.Fatalf("outage not counted in metrics")
	}
	if !strings.Contains(e.Logs.String(), "redis unreachable") {
		t.Fatal("outage not logged")
	}

	// Forget the state written before the outage: when Redis is used again
	// the key comes back.
	if err := rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r := call(); r.Status != http.StatusOK {
			t.Fatalf("after the outage: %d", r.Status)
		}
		if n, _ := rdb.Exists(ctx, key).Result(); n == 1 && strings.Contains(e.Logs.String(), "redis reachable again") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("limiter did not return to redis")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tcpProxy forwards to a target until cut.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	if c, err := net.DialTimeout("tcp", target, time.Second); err != nil {
		t.Fatalf("redis at %s is required: %v", target, err)
	} else {
		_ = c.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// Cut closes every connection and refuses new ones.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// Restore accepts connections again.
func (p *tcpProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}
