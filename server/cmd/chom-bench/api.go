package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for the scratch database

	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
)

// apiFigures is what the API benchmark measured on one database.
type apiFigures struct {
	Dialect                      store.Dialect
	Get, GetBare, List, ListBare loadResult
	// AcceptPost and AcceptGet are the create's 202 and a read, one
	// client, alternating.
	AcceptPost, AcceptGet latencies
	RSS, BareRSS          int64
	Sites                 int
}

// benchAPI seeds a database, starts the real server and the baseline on
// it, and loads both with the same requests.
func benchAPI(ctx context.Context, o options, dialect store.Dialect) (_ *apiFigures, err error) {
	dir, err := os.MkdirTemp("", "chom-bench-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	dbURL := "sqlite://" + filepath.Join(dir, "chom.db")
	if dialect == store.Postgres {
		url, drop, err := scratchPostgres(ctx, o.postgresURL)
		if err != nil {
			return nil, err
		}
		defer drop()
		dbURL = url
	}

	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dbURL, nil)
	if err != nil {
		return nil, err
	}
	if _, err := st.MigrateUp(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	progress("%s: seeding %d tenants × %d sites", dialect, o.tenants, o.sitesEach)
	start := time.Now()
	tenants, err := seed(ctx, st, box, o.tenants, o.sitesEach)
	_ = st.Close()
	if err != nil {
		return nil, err
	}
	progress("%s: seeded in %s", dialect, time.Since(start).Round(time.Millisecond))

	srv, err := startServer(o.serverBin, dir, map[string]string{
		"CHOM_DATABASE_URL": dbURL, "CHOM_MASTER_KEY": base64.StdEncoding.EncodeToString(key),
		"CHOM_LOG_FORMAT": "json", "CHOM_LOG_LEVEL": "info",
		// High enough never to refuse: the limiter still runs on every request.
		"CHOM_RATE_LIMIT": "1000000000",
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	bare, err := startBare(dbURL)
	if err != nil {
		return nil, err
	}
	defer bare.stop()

	client := newClient(o.clients)
	get := func(base string, full bool) request {
		return func(rng *mrand.Rand) *http.Request {
			t := tenants[rng.IntN(len(tenants))]
			return siteRequest(base, "/api/v1/sites/"+t.SiteIDs[rng.IntN(len(t.SiteIDs))], t, full)
		}
	}
	list := func(base string, full bool) request {
		return func(rng *mrand.Rand) *http.Request {
			return siteRequest(base, "/api/v1/sites?limit=50", tenants[rng.IntN(len(tenants))], full)
		}
	}
	f := &apiFigures{Dialect: dialect, Sites: o.tenants * o.sitesEach}
	// Warm both: connections, statement caches, the database's pages.
	for _, r := range []request{get(srv.URL, true), get(bare.URL, false), list(srv.URL, true), list(bare.URL, false)} {
		runLoad(ctx, client, o.clients, o.warmup, http.StatusOK, r)
	}
	// Alternating rounds, so a change in what else runs on the machine
	// falls on both sides alike.
	var gets, getsBare, lists, listsBare []loadResult
	for round := range o.rounds {
		progress("%s: round %d/%d: GET /sites/{id}, then GET /sites?limit=50, %d clients × %s each side", dialect, round+1, o.rounds, o.clients, o.duration)
		load := func(c *child, next request) loadResult {
			return c.measured(func() loadResult { return runLoad(ctx, client, o.clients, o.duration, http.StatusOK, next) })
		}
		gets = append(gets, load(srv, get(srv.URL, true)))
		getsBare = append(getsBare, load(bare, get(bare.URL, false)))
		lists = append(lists, load(srv, list(srv.URL, true)))
		listsBare = append(listsBare, load(bare, list(bare.URL, false)))
	}
	f.Get, f.GetBare, f.List, f.ListBare = merge(gets...), merge(getsBare...), merge(lists...), merge(listsBare...)

	progress("%s: %d site creations (202) alternating with reads, one client", dialect, o.accepts)
	if f.AcceptPost, f.AcceptGet, err = benchAccept(client, srv.URL, tenants[0], o.accepts); err != nil {
		return nil, err
	}
	if f.RSS, err = srv.rss(); err != nil {
		return nil, err
	}
	if f.BareRSS, err = bare.rss(); err != nil {
		return nil, err
	}
	return f, nil
}

// siteRequest is a read as the API (bearer token) or the baseline
// (organization header) takes it.
func siteRequest(base, path string, t tenant, full bool) *http.Request {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+path, nil)
	if full {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	} else {
		req.Header.Set("X-Organization-Id", t.OrgID)
	}
	return req
}

// benchAccept alternates POST /api/v1/sites (timed to its 202) and GET
// /api/v1/sites/{id}, n of each, from one client. The site's server is
// known to the control plane but unreachable: accepting a site needs only
// its row, and the operations it starts fail at their first step.
func benchAccept(client *http.Client, base string, t tenant, n int) (post, get latencies, err error) {
	var posts, gets []time.Duration
	rng := mrand.New(mrand.NewPCG(1, 2))
	stamp := time.Now().UnixNano()
	for i := range n {
		body := fmt.Sprintf(`{"domain":"accept-%d-%d.bench.example.com","type":"html","vps_id":%q}`, stamp, i, t.VPSID)
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/sites", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+t.Token)
		req.Header.Set("Content-Type", "application/json")
		d, err := timed(client, req, http.StatusAccepted)
		if err != nil {
			return nil, nil, err
		}
		posts = append(posts, d)
		d, err = timed(client, siteRequest(base, "/api/v1/sites/"+t.SiteIDs[rng.IntN(len(t.SiteIDs))], t, true), http.StatusOK)
		if err != nil {
			return nil, nil, err
		}
		gets = append(gets, d)
	}
	return sorted(posts), sorted(gets), nil
}

func timed(client *http.Client, req *http.Request, want int) (time.Duration, error) {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != want {
		return 0, fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(body))
	}
	return d, nil
}

// scratchPostgres creates a database on the server base names (a URL
// ending in /test?…, as CHOM_TEST_POSTGRES_URL) and returns its URL and a
// function that drops it.
func scratchPostgres(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	name := "chom_bench_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("postgres at %s: %w", base, err)
	}
	url := strings.Replace(base, "/test?", "/"+name+"?", 1)
	if url == base {
		_ = admin.Close()
		return "", nil, fmt.Errorf("the PostgreSQL URL must name the database /test with query options, got %q", base)
	}
	return url, func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			progress("drop %s: %v", name, err)
		}
		_ = admin.Close()
	}, nil
}
