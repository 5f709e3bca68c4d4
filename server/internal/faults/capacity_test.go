package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
)

// TestConcurrentCreatesStopAtCapacity sends 50 site creations at once to
// an organization whose only server has room for 40: exactly 40 are
// accepted and 10 refused with an error naming the capacity, and the
// server's count of sites matches what was accepted.
func TestConcurrentCreatesStopAtCapacity(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		w := watch(t, e, "")
		const capacity, attempts = 40, 50
		vpsID := seedVPS(t, e, w.owner.OrgID, capacity, 0)

		type answer struct {
			status int
			body   []byte
		}
		answers := make([]answer, attempts)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(map[string]any{"domain": fmt.Sprintf("cap-%d-%s.example.test", i, suffix()), "type": "html"})
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.URL+"/api/v1/sites", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+w.token)
				req.Header.Set("Content-Type", "application/json")
				<-start
				resp, err := e.HTTP.Do(req)
				if err != nil {
					answers[i] = answer{status: -1, body: []byte(err.Error())}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				answers[i] = answer{status: resp.StatusCode, body: b}
				w.bodies.observe(http.MethodPost, "/api/v1/sites", resp.StatusCode, b)
			}()
		}
		close(start)
		wg.Wait()

		accepted, refused := 0, 0
		for _, a := range answers {
			switch a.status {
			case http.StatusAccepted:
				accepted++
			case http.StatusConflict:
				refused++
				var env struct {
					Error struct {
						Code   string            `json:"code"`
						Fields map[string]string `json:"fields"`
					} `json:"error"`
				}
				if err := json.Unmarshal(a.body, &env); err != nil || env.Error.Code != "no_vps_capacity" || env.Error.Fields["capacity"] == "" {
					t.Errorf("refusal does not name the capacity: %s", a.body)
				}
			default:
				t.Errorf("unexpected answer %d: %s", a.status, a.body)
			}
		}
		if accepted != capacity || refused != attempts-capacity {
			t.Fatalf("accepted %d and refused %d, want %d and %d", accepted, refused, capacity, attempts-capacity)
		}

		sites := w.do(t, http.MethodGet, "/api/v1/sites?limit=200", nil)
		var list struct {
			Pagination struct{ Total int } `json:"pagination"`
		}
		sites.Decode(t, &list)
		v, err := e.Server.Store.VPS(context.Background(), w.owner.OrgID, vpsID)
		if err != nil {
			t.Fatal(err)
		}
		ops, _, err := e.Server.Store.ListOperations(context.Background(), w.owner.OrgID, store.OperationFilter{TargetType: "site"}, store.Page{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if list.Pagination.Total != capacity || v.SitesAllocated != capacity || len(ops) != capacity {
			t.Fatalf("after the race: %d sites, %d slots taken, %d operations; want %d of each", list.Pagination.Total, v.SitesAllocated, len(ops), capacity)
		}
		// The refusals are checked against the document like any answer.
		if resp := w.do(t, http.MethodPost, "/api/v1/sites", map[string]any{"domain": "cap-last-" + suffix() + ".example.test", "type": "html"}); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "no_vps_capacity" {
			t.Fatalf("a create on the full server: %d %s", resp.Status, resp.Body)
		}
		t.Logf("%s: %d accepted, %d refused with no_vps_capacity", e.Dialect, accepted, refused)
	})
}
