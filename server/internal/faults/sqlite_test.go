package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
)

// lockedErrors are how SQLite's lock contention shows when it escapes.
var lockedErrors = []string{"database is locked", "SQLITE_BUSY", "database table is locked", "SQLITE_LOCKED"}

// TestSQLiteConcurrentWritersNeverLocked has 16 clients write through the
// API to one SQLite database for 30 s (CHOM_FAULTS_WRITERS_FOR), with the
// operation workers running beside them: site creations, token creations
// and revocations, and renames of the organization. No request may fail,
// and neither the answers nor the server's log may show the database
// locked.
func TestSQLiteConcurrentWritersNeverLocked(t *testing.T) {
	d := 30 * time.Second
	if v := os.Getenv("CHOM_FAULTS_WRITERS_FOR"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("CHOM_FAULTS_WRITERS_FOR: %v", err)
		}
	}
	e := apitest.New(t, apitest.WithEnv("CHOM_DEFAULT_MAX_SITES", "1000000"))
	w := watch(t, e, "")
	seedVPS(t, e, w.owner.OrgID, 1_000_000, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Operations fail at once against the seeded server: their retries
	// and status changes are writers too.
	if err := e.Server.Jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}

	const writers = 16
	type tally struct {
		byKind   map[string]int
		failures []string
	}
	tallies := make([]tally, writers)
	send := func(method, path string, body any, want int) (map[string]any, string) {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, e.URL+path, r)
		req.Header.Set("Authorization", "Bearer "+w.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.HTTP.Do(req)
		if err != nil {
			return nil, fmt.Sprintf("%s %s: %v", method, path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		w.bodies.observe(method, path, resp.StatusCode, raw)
		if resp.StatusCode != want {
			return nil, fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out, ""
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl := &tallies[i]
			tl.byKind = map[string]int{}
			for n := 0; time.Now().Before(deadline); n++ {
				var fail string
				kind := []string{"create site", "create and revoke token", "rename organization"}[(i+n)%3]
				switch kind {
				case "create site":
					_, fail = send(http.MethodPost, "/api/v1/sites", map[string]any{"domain": fmt.Sprintf("w%d-%d-%s.example.test", i, n, suffix()), "type": "html"}, http.StatusAccepted)
				case "create and revoke token":
					var tok map[string]any
					tok, fail = send(http.MethodPost, "/api/v1/tokens", map[string]any{"name": fmt.Sprintf("w%d-%d", i, n), "abilities": []string{"read"}}, http.StatusCreated)
					if fail == "" {
						_, fail = send(http.MethodDelete, "/api/v1/tokens/"+fmt.Sprint(tok["id"]), nil, http.StatusNoContent)
					}
				case "rename organization":
					_, fail = send(http.MethodPatch, "/api/v1/organization", map[string]any{"name": fmt.Sprintf("Writers %d-%d", i, n)}, http.StatusOK)
				}
				tl.byKind[kind]++
				if fail != "" {
					tl.failures = append(tl.failures, fail)
				}
			}
		}()
	}
	wg.Wait()

	total := map[string]int{}
	var failures []string
	for _, tl := range tallies {
		for k, n := range tl.byKind {
			total[k] += n
		}
		failures = append(failures, tl.failures...)
	}
	kinds := make([]string, 0, len(total))
	for k, n := range total {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("%d writers for %s: %s; %d failed", writers, d, strings.Join(kinds, ", "), len(failures))
	for i, f := range failures {
		if i == 10 {
			t.Errorf("… and %d more", len(failures)-10)
			break
		}
		t.Errorf("write failed: %s", f)
	}
	if len(total) != 3 {
		t.Fatalf("not every kind of write ran: %v", total)
	}
	logs := e.Logs.String()
	for _, s := range lockedErrors {
		if n := strings.Count(logs, s); n > 0 {
			t.Errorf("the server logged %q %d times", s, n)
		}
	}
	for _, f := range failures {
		for _, s := range lockedErrors {
			if strings.Contains(f, s) {
				t.Errorf("an answer shows the database locked: %s", f)
			}
		}
	}
}
