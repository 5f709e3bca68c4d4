package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// reply is one canned answer of a scripted server.
type reply struct {
	status     int
	body       string
	retryAfter string
	// hangUp closes the connection without answering.
	hangUp bool
}

// recorded is what the scripted server saw of one request.
type recorded struct {
	method string
	path   string
	query  string
	header http.Header
	body   string
}

// scripted answers requests with replies in order, repeating the last one,
// and records every request.
type scripted struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	seen    []recorded
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.seen = append(s.seen, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(body)})
	rep := s.replies[min(len(s.seen), len(s.replies))-1]
	s.mu.Unlock()
	if rep.hangUp {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			s.t.Errorf("hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "hdr-req-id")
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (s *scripted) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.seen...)
}

// newScripted starts a scripted server and a client for it with waits
// short enough for tests.
func newScripted(t *testing.T, cfg Config, replies ...reply) (*scripted, *Client) {
	t.Helper()
	s := &scripted{t: t, replies: replies}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg.Endpoint = srv.URL
	if cfg.Token == "" {
		cfg.Token = "chom_test"
	}
	cfg.MinRetryWait, cfg.MaxRetryWait = time.Millisecond, 5*time.Millisecond
	cfg.MinPollWait, cfg.MaxPollWait = time.Millisecond, 5*time.Millisecond
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return s, c
}

const memberJSON = `{"id":"mem_1","email":"a@example.com","role":"admin","status":"pending","user_id":null,"name":null,
"invited_by":"usr_1","invitation_expires_at":"2030-01-02T03:04:05Z","created_at":"2029-12-26T03:04:05Z","updated_at":"2029-12-26T03:04:05Z",
"invitation_token":"inv_secret"}`

func TestRetryPolicy(t *testing.T) {
	unavailable := reply{status: 503, body: `{"error":{"code":"unavailable","message":"try later","request_id":"r1"}}`}
	tests := []struct {
		name         string
		req          request
		maxRetries   int
		replies      []reply
		wantAttempts int
		wantStatus   int // 0: success
	}{
		{"GET retried on 503", request{method: http.MethodGet, path: "/x"}, 4,
			[]reply{unavailable, unavailable, {status: 200, body: `{}`}}, 3, 0},
		{"GET retried on 500", request{method: http.MethodGet, path: "/x"}, 4,
			[]reply{{status: 500, body: `{}`}, {status: 200, body: `{}`}}, 2, 0},
		{"GET retried after a dropped connection", request{method: http.MethodGet, path: "/x"}, 4,
			[]reply{{hangUp: true}, {status: 200, body: `{}`}}, 2, 0},
		{"DELETE retried on 502", request{method: http.MethodDelete, path: "/x"}, 4,
			[]reply{{status: 502, body: "<html>bad gateway</html>"}, {status: 204}}, 2, 0},
		{"POST without idempotency key not retried", request{method: http.MethodPost, path: "/x", body: map[string]string{}}, 4,
			[]reply{unavailable, {status: 201, body: `{}`}}, 1, 503},
		{"POST without idempotency key not retried after a dropped connection", request{method: http.MethodPost, path: "/x"}, 4,
			[]reply{{hangUp: true}, {status: 201, body: `{}`}}, 1, -1},
		{"POST with idempotency key retried", request{method: http.MethodPost, path: "/x", idempotencyKey: "k"}, 4,
			[]reply{unavailable, {status: 201, body: `{}`}}, 2, 0},
		{"POST with idempotency key retried while its first attempt is in progress", request{method: http.MethodPost, path: "/x", idempotencyKey: "k"}, 4,
			[]reply{{status: 409, body: `{"error":{"code":"idempotency_in_progress","message":"busy","request_id":"r"}}`}, {status: 201, body: `{}`}}, 2, 0},
		{"PATCH not retried", request{method: http.MethodPatch, path: "/x"}, 4,
			[]reply{unavailable, {status: 200, body: `{}`}}, 1, 503},
		{"repeatable PATCH retried", request{method: http.MethodPatch, path: "/x", repeatable: true}, 4,
			[]reply{unavailable, {status: 200, body: `{}`}}, 2, 0},
		{"client errors not retried", request{method: http.MethodGet, path: "/x"}, 4,
			[]reply{{status: 404, body: `{"error":{"code":"not_found","message":"gone","request_id":"r"}}`}}, 1, 404},
		{"other conflicts not retried", request{method: http.MethodPost, path: "/x", idempotencyKey: "k"}, 4,
			[]reply{{status: 409, body: `{"error":{"code":"conflict","message":"exists","request_id":"r"}}`}}, 1, 409},
		{"501 not retried", request{method: http.MethodGet, path: "/x"}, 4,
			[]reply{{status: 501, body: `{}`}}, 1, 501},
		{"gives up after max retries", request{method: http.MethodGet, path: "/x"}, 2,
			[]reply{unavailable}, 3, 503},
		{"no retries when disabled", request{method: http.MethodGet, path: "/x"}, -1,
			[]reply{unavailable}, 1, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newScripted(t, Config{MaxRetries: tt.maxRetries}, tt.replies...)
			err := c.do(context.Background(), tt.req, nil)
			if got := len(srv.requests()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			var apiErr *Error
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantStatus > 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus):
				t.Fatalf("err = %v, want an *Error with status %d", err, tt.wantStatus)
			case tt.wantStatus < 0 && (err == nil || errors.As(err, &apiErr)):
				t.Fatalf("err = %v, want a transport error", err)
			}
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	srv, c := newScripted(t, Config{},
		reply{status: 429, retryAfter: "1", body: `{"error":{"code":"rate_limited","message":"slow down","request_id":"r"}}`},
		reply{status: 200, body: `{"id":"org_1","name":"Acme"}`})
	start := time.Now()
	org, err := c.Organization(context.Background())
	if err != nil {
		t.Fatalf("Organization: %v", err)
	}
	// The client's own backoff is at most 5ms here, so only Retry-After
	// explains a wait of a second.
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("retried after %v, want at least the 1s of Retry-After", elapsed)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
	if org.Name != "Acme" {
		t.Errorf("name = %q, want Acme", org.Name)
	}
}

func TestRetryAfterWaitEndsWithContext(t *testing.T) {
	_, c := newScripted(t, Config{}, reply{status: 429, retryAfter: "60", body: `{}`})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Organization(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context deadline", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Errorf("err = %v, want it to keep the 429 it was waiting out", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("returned after %v, want soon after the context ended", elapsed)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-4", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoffGrowsWithinBounds(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	for attempt, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceiling *= time.Millisecond
		for range 50 {
			d := b.delay(attempt)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("delay(%d) = %v, want within [%v, %v]", attempt, d, ceiling/2, ceiling)
			}
		}
	}
	if d := b.delay(5000); d > time.Second {
		t.Errorf("delay(5000) = %v, want capped at 1s", d)
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreateReusesIdempotencyKeyAcrossRetries(t *testing.T) {
	srv, c := newScripted(t, Config{},
		reply{status: 503, body: `{}`},
		reply{status: 504, body: `{}`},
		reply{status: 201, body: memberJSON})
	m, err := c.CreateTeamMember(context.Background(), MemberCreateOptions{Email: "A@example.com", Role: RoleAdmin})
	if err != nil {
		t.Fatalf("CreateTeamMember: %v", err)
	}
	reqs := srv.requests()
	if len(reqs) != 3 {
		t.Fatalf("attempts = %d, want 3", len(reqs))
	}
	key := reqs[0].header.Get("Idempotency-Key")
	if !uuidPattern.MatchString(key) {
		t.Fatalf("Idempotency-Key = %q, want a random UUID", key)
	}
	for i, r := range reqs {
		if got := r.header.Get("Idempotency-Key"); got != key {
			t.Errorf("attempt %d Idempotency-Key = %q, want %q", i+1, got, key)
		}
		if r.body != `{"email":"A@example.com","role":"admin"}` {
			t.Errorf("attempt %d body = %s", i+1, r.body)
		}
	}
	if m.ID != "mem_1" || m.InvitationToken != "inv_secret" || m.InvitationExpiresAt == nil || m.UserID != nil {
		t.Errorf("member = %+v", m)
	}

	if _, err := c.CreateTeamMember(context.Background(), MemberCreateOptions{Email: "b@example.com", Role: RoleViewer}); err != nil {
		t.Fatalf("second CreateTeamMember: %v", err)
	}
	if next := srv.requests()[3].header.Get("Idempotency-Key"); next == key || !uuidPattern.MatchString(next) {
		t.Errorf("second create Idempotency-Key = %q, want a new UUID (first %q)", next, key)
	}
}

func TestErrorEnvelope(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		want Error
	}{
		{
			name: "validation failure with fields",
			rep: reply{status: 422, body: `{"error":{"code":"validation_failed","message":"the request has invalid fields",
				"fields":{"email":"must be an e-mail address","role":"must be one of owner, admin, member, viewer"},"request_id":"req-123"}}`},
			want: Error{StatusCode: 422, Code: "validation_failed", Message: "the request has invalid fields", RequestID: "req-123",
				Fields: map[string]string{"email": "must be an e-mail address", "role": "must be one of owner, admin, member, viewer"}},
		},
		{
			name: "request id from the header when the body has none",
			rep:  reply{status: 403, body: `{"error":{"code":"insufficient_role","message":"no"}}`},
			want: Error{StatusCode: 403, Code: "insufficient_role", Message: "no", RequestID: "hdr-req-id"},
		},
		{
			name: "not the envelope",
			rep:  reply{status: 400, body: "<html>bad request</html>"},
			want: Error{StatusCode: 400, Message: "<html>bad request</html>", RequestID: "hdr-req-id"},
		},
		{
			name: "long bodies are cut",
			rep:  reply{status: 400, body: strings.Repeat("x", 2000)},
			want: Error{StatusCode: 400, Message: strings.Repeat("x", maxErrorBody) + "…", RequestID: "hdr-req-id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newScripted(t, Config{}, tt.rep)
			_, err := c.CreateTeamMember(context.Background(), MemberCreateOptions{Email: "x", Role: "boss"})
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if fmt.Sprint(*got) != fmt.Sprint(tt.want) {
				t.Errorf("error = %+v\nwant    %+v", *got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{StatusCode: 422, Code: "validation_failed", Message: "invalid", RequestID: "r9",
		Fields: map[string]string{"role": "bad", "email": "worse"}}
	want := "422 Unprocessable Entity (validation_failed): invalid [email: worse; role: bad] (request id r9)"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
}

func TestIsNotFound(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"404", &Error{StatusCode: 404}, true},
		{"wrapped 404", fmt.Errorf("get team member x: %w", &Error{StatusCode: 404}), true},
		{"410", &Error{StatusCode: 410}, false},
		{"500", &Error{StatusCode: 500}, false},
		{"not an API error", errors.New("404"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsNotFound(tt.err); got != tt.want {
			t.Errorf("%s: IsNotFound = %v, want %v", tt.name, got, tt.want)
		}
	}

	if !HasCode(fmt.Errorf("create team member: %w", &Error{StatusCode: 409, Code: "member_exists"}), "member_exists") ||
		HasCode(&Error{StatusCode: 409, Code: "conflict"}, "member_exists") || HasCode(errors.New("member_exists"), "member_exists") {
		t.Error("HasCode does not tell the server's error codes apart")
	}

	_, c := newScripted(t, Config{}, reply{status: 404, body: `{"error":{"code":"not_found","message":"member not found","request_id":"r"}}`})
	if _, err := c.TeamMember(context.Background(), "mem_gone"); !IsNotFound(err) {
		t.Errorf("TeamMember of a missing id: err = %v, want IsNotFound", err)
	}
}

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		wantRunID string
		wantUA    string
		wantAuth  string
	}{
		{"with a Terraform Cloud run", Config{Token: "chom_abc", Version: "1.2.3", RunID: "run-XYZ"}, "run-XYZ", "terraform-provider-chom/1.2.3", "Bearer chom_abc"},
		{"outside Terraform Cloud", Config{Token: "chom_abc", Version: "1.2.3"}, "", "terraform-provider-chom/1.2.3", "Bearer chom_abc"},
		{"unversioned build", Config{Token: "chom_abc"}, "", "terraform-provider-chom/dev", "Bearer chom_abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newScripted(t, tt.cfg, reply{status: 200, body: memberJSON})
			if _, err := c.TeamMember(context.Background(), "mem_1"); err != nil {
				t.Fatalf("TeamMember: %v", err)
			}
			h := srv.requests()[0].header
			if _, present := h["X-Chom-Run-Id"]; present != (tt.wantRunID != "") || h.Get("X-Chom-Run-Id") != tt.wantRunID {
				t.Errorf("X-Chom-Run-Id = %q (present %v), want %q", h.Get("X-Chom-Run-Id"), present, tt.wantRunID)
			}
			if got := h.Get("User-Agent"); got != tt.wantUA {
				t.Errorf("User-Agent = %q, want %q", got, tt.wantUA)
			}
			if got := h.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			if got := h.Get("Idempotency-Key"); got != "" {
				t.Errorf("a GET carries Idempotency-Key %q", got)
			}
		})
	}
}

func TestTeamMemberRequests(t *testing.T) {
	srv, c := newScripted(t, Config{}, reply{status: 200, body: `{"data":[` + memberJSON + `],"pagination":{"total":1,"limit":1,"offset":0}}`})
	ctx := context.Background()
	m, err := c.FindTeamMemberByEmail(ctx, "A@Example.com")
	if err != nil || m.ID != "mem_1" {
		t.Fatalf("FindTeamMemberByEmail = %+v, %v", m, err)
	}
	role := RoleViewer
	if _, err := c.UpdateTeamMember(ctx, "mem/1", MemberUpdateOptions{Role: &role}); err != nil {
		t.Fatalf("UpdateTeamMember: %v", err)
	}
	if err := c.DeleteTeamMember(ctx, ".."); err != nil {
		t.Fatalf("DeleteTeamMember: %v", err)
	}
	want := []recorded{
		{method: "GET", path: "/api/v1/team/members", query: "email=A%40Example.com&limit=1"},
		{method: "PATCH", path: "/api/v1/team/members/mem%2F1", body: `{"role":"viewer"}`},
		{method: "DELETE", path: "/api/v1/team/members/.."},
	}
	got := srv.requests()
	if len(got) != len(want) {
		t.Fatalf("requests = %d, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		if g.method != want[i].method || g.path != want[i].path || g.query != want[i].query || g.body != want[i].body {
			t.Errorf("request %d = %s %s ?%s %s\nwant        %s %s ?%s %s", i, g.method, g.path, g.query, g.body,
				want[i].method, want[i].path, want[i].query, want[i].body)
		}
	}

	_, empty := newScripted(t, Config{}, reply{status: 200, body: `{"data":[],"pagination":{"total":0,"limit":1,"offset":0}}`})
	if _, err := empty.FindTeamMemberByEmail(ctx, "nobody@example.com"); !IsNotFound(err) {
		t.Errorf("FindTeamMemberByEmail of an unknown e-mail: err = %v, want IsNotFound", err)
	}
	if _, err := c.UpdateTeamMember(ctx, "mem_1", MemberUpdateOptions{}); err == nil {
		t.Error("UpdateTeamMember with nothing to change: want an error")
	}
	if _, err := c.CreateTeamMember(ctx, MemberCreateOptions{Role: RoleAdmin}); err == nil {
		t.Error("CreateTeamMember without an e-mail: want an error")
	}
	if n := len(srv.requests()); n != 3 {
		t.Errorf("invalid options reached the server: %d requests", n)
	}
}

func operationJSON(status, errMsg string) string {
	b, _ := json.Marshal(Operation{
		ID: "op_1", Kind: "vps.provision", TargetType: "vps", TargetID: "vps_1", Status: status, Error: errMsg,
		Progress: OperationProgress{Step: 3, StepCount: 7, StepName: "install nginx"},
	})
	return string(b)
}

func TestWaitForOperation(t *testing.T) {
	t.Run("succeeded", func(t *testing.T) {
		srv, c := newScripted(t, Config{},
			reply{status: 200, body: operationJSON(OperationQueued, "")},
			reply{status: 503, body: `{}`},
			reply{status: 200, body: operationJSON(OperationRunning, "")},
			reply{status: 200, body: operationJSON(OperationSucceeded, "")})
		op, err := c.WaitForOperation(context.Background(), "op_1")
		if err != nil {
			t.Fatalf("WaitForOperation: %v", err)
		}
		if op.Status != OperationSucceeded {
			t.Errorf("status = %q", op.Status)
		}
		reqs := srv.requests()
		if len(reqs) != 4 || reqs[0].path != "/api/v1/operations/op_1" {
			t.Errorf("requests = %+v", reqs)
		}
	})
	t.Run("failed", func(t *testing.T) {
		_, c := newScripted(t, Config{},
			reply{status: 200, body: operationJSON(OperationRunning, "")},
			reply{status: 200, body: operationJSON(OperationFailed, "nginx -t: syntax error")})
		op, err := c.WaitForOperation(context.Background(), "op_1")
		var opErr *OperationError
		if !errors.As(err, &opErr) {
			t.Fatalf("err = %v, want *OperationError", err)
		}
		if op == nil || op.Status != OperationFailed {
			t.Errorf("op = %+v, want the failed operation", op)
		}
		for _, want := range []string{"op_1", "nginx -t: syntax error", "step 3/7 (install nginx)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
	t.Run("context ends", func(t *testing.T) {
		_, c := newScripted(t, Config{}, reply{status: 200, body: operationJSON(OperationRunning, "")})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if _, err := c.WaitForOperation(ctx, "op_1"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the context deadline", err)
		}
	})
	t.Run("missing operation", func(t *testing.T) {
		_, c := newScripted(t, Config{}, reply{status: 404, body: `{"error":{"code":"not_found","message":"operation not found","request_id":"r"}}`})
		if _, err := c.WaitForOperation(context.Background(), "op_x"); !IsNotFound(err) {
			t.Errorf("err = %v, want IsNotFound", err)
		}
	})
}

func TestNewValidatesEndpoint(t *testing.T) {
	tests := []struct {
		endpoint string
		wantErr  bool
	}{
		{"https://chom.example.com", false},
		{"https://chom.example.com/", false},
		{"http://127.0.0.1:8080", false},
		{"", true},
		{"chom.example.com", true},
		{"ftp://chom.example.com", true},
		{"https://", true},
		{"https://chom.example.com/?x=1", true},
	}
	for _, tt := range tests {
		_, err := New(Config{Endpoint: tt.endpoint, Token: "t"})
		if (err != nil) != tt.wantErr {
			t.Errorf("New(endpoint %q) err = %v, want error %v", tt.endpoint, err, tt.wantErr)
		}
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	first := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slow := false
		once.Do(func() { slow = true; close(first) })
		if slow {
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, `{"id":"org_1","name":"Acme"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Endpoint: srv.URL, Token: "t", RequestTimeout: 50 * time.Millisecond, MinRetryWait: time.Millisecond, MaxRetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	org, err := c.Organization(context.Background())
	if err != nil {
		t.Fatalf("Organization: %v", err)
	}
	if org.ID != "org_1" {
		t.Errorf("id = %q", org.ID)
	}
	select {
	case <-first:
	default:
		t.Error("the slow first attempt never reached the server")
	}
}
