// Package apitest runs the real control plane in process for API tests and
// checks every request and response the tests make against the OpenAPI
// document, so the document cannot drift from the code.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/chomhq/chom/server/internal/api/openapi"
	"github.com/chomhq/chom/server/internal/app"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// Env is one running control plane.
type Env struct {
	URL     string
	Server  *app.Server
	Dialect store.Dialect
	HTTP    *http.Client
	DataDir string
	// Logs holds everything the server logged, for secret sweeps.
	Logs *SyncBuffer
}

// Option changes how New starts the server.
type Option func(*options)

type options struct {
	dialect store.Dialect
	env     map[string]string
}

// WithDialect picks the database (SQLite by default).
func WithDialect(d store.Dialect) Option { return func(o *options) { o.dialect = d } }

// WithEnv sets a CHOM_* setting for the server.
func WithEnv(key, value string) Option { return func(o *options) { o.env[key] = value } }

// New starts a control plane on a fresh database and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{dialect: store.SQLite, env: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	dataDir := t.TempDir()
	env := map[string]string{
		"CHOM_ENV":              "test",
		"CHOM_DATA_DIR":         dataDir,
		"CHOM_LOG_LEVEL":        "debug",
		"CHOM_LOG_FORMAT":       "json",
		"CHOM_HEALTH_INTERVAL":  "0",
		"CHOM_RATE_LIMIT":       "100000",
		"CHOM_LOGIN_RATE_LIMIT": "100000",
	}
	if o.dialect == store.Postgres {
		env["CHOM_DATABASE_URL"] = PostgresDatabase(t)
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(logs, testWriter(t)), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	s, err := app.Build(ctx, cfg, log)
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	ts := httptest.NewServer(s.Handler)
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Logf("close server: %v", err)
		}
	})
	return &Env{URL: ts.URL, Server: s, Dialect: o.dialect, HTTP: ts.Client(), DataDir: dataDir, Logs: logs}
}

// Dialects runs fn against SQLite and against PostgreSQL.
func Dialects(t *testing.T, fn func(t *testing.T, e *Env), opts ...Option) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, New(t, append([]Option{WithDialect(d)}, opts...)...))
		})
	}
}

// PostgresDatabase creates a scratch PostgreSQL database for the test; see
// storetest.PostgresDatabase.
func PostgresDatabase(t testing.TB) string { return storetest.PostgresDatabase(t) }

// Response is what a request returned.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response %q: %v", r.Status, r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// ErrorCode returns error.code of an error envelope.
func (r *Response) ErrorCode(t testing.TB) string {
	t.Helper()
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	r.Decode(t, &env)
	return env.Error.Code
}

// ErrorFields returns error.fields of an error envelope.
func (r *Response) ErrorFields(t testing.TB) map[string]string {
	t.Helper()
	var env struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	r.Decode(t, &env)
	return env.Error.Fields
}

// RequestOption adjusts one request.
type RequestOption func(*http.Request, *requestOptions)

type requestOptions struct {
	skipRequestCheck bool
}

// Header sets a request header.
func Header(key, value string) RequestOption {
	return func(r *http.Request, _ *requestOptions) { r.Header.Set(key, value) }
}

// Invalid marks a request the test sends on purpose against the document
// (malformed bodies, wrong types): only its response is checked.
func Invalid() RequestOption {
	return func(_ *http.Request, o *requestOptions) { o.skipRequestCheck = true }
}

// Do sends a request with an optional bearer token and JSON body (a string
// or []byte body is sent as is), checking request and response against the
// OpenAPI document.
func (e *Env) Do(t testing.TB, method, path, token string, body any, opts ...RequestOption) *Response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatalf("encode body: %v", err)
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	var ro requestOptions
	for _, o := range opts {
		o(req, &ro)
	}
	route, params := findRoute(t, req)
	input := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if route != nil && !ro.skipRequestCheck {
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(raw))
		input.Request = check
		if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
			t.Fatalf("%s %s: request does not match the OpenAPI document: %v", method, path, err)
		}
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if route != nil {
		input.Request = req
		rv := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: input, Status: resp.StatusCode, Header: resp.Header,
			Body:    io.NopCloser(bytes.NewReader(out)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(req.Context(), rv); err != nil {
			t.Fatalf("%s %s → %d: response does not match the OpenAPI document: %v\nbody: %s", method, path, resp.StatusCode, err, out)
		}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: out}
}

// Tenant is a registered organization with its owner's token.
type Tenant struct {
	OrgID    string
	UserID   string
	Email    string
	Password string
	Token    string
}

// Register signs up a new owner and organization called name.
func (e *Env) Register(t testing.TB, name string) *Tenant {
	t.Helper()
	email := strings.ToLower(name) + "-" + strings.ToLower(rand.Text()[:6]) + "@example.com"
	password := "pw-" + rand.Text()
	resp := e.Do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
		"name": name + " Owner", "email": email, "password": password, "organization_name": name,
	})
	if resp.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", name, resp.Status, resp.Body)
	}
	var s struct {
		User         struct{ ID string }    `json:"user"`
		Organization struct{ ID string }    `json:"organization"`
		Token        struct{ Token string } `json:"token"`
	}
	resp.Decode(t, &s)
	return &Tenant{OrgID: s.Organization.ID, UserID: s.User.ID, Email: email, Password: password, Token: s.Token.Token}
}

var (
	docOnce   sync.Once
	docRouter routers.Router
	docErr    error
)

// Document returns the parsed OpenAPI document.
func Document(t testing.TB) *openapi3.T {
	t.Helper()
	raw, err := openapi.JSON()
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	return doc
}

func findRoute(t testing.TB, req *http.Request) (*routers.Route, map[string]string) {
	t.Helper()
	docOnce.Do(func() {
		doc := Document(t)
		if docErr = doc.Validate(context.Background()); docErr != nil {
			return
		}
		// Match on the path alone, whatever host the test server has.
		doc.Servers = nil
		docRouter, docErr = gorillamux.NewRouter(doc)
	})
	if docErr != nil {
		t.Fatalf("openapi document is invalid: %v", docErr)
	}
	route, params, err := docRouter.FindRoute(req)
	if err != nil {
		// Unknown routes are allowed only for the probes tests make on purpose.
		if strings.Contains(req.URL.Path, "/does-not-exist") {
			return nil, nil
		}
		t.Fatalf("%s %s is not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
	}
	return route, params
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	if os.Getenv("CHOM_TEST_VERBOSE_LOGS") != "" {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func testWriter(t testing.TB) io.Writer { return tlogWriter{t} }
