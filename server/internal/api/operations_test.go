package api_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/jobs/jobtest"
	"github.com/chomhq/chom/server/internal/store"
)

type operationBody struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	Status     string `json:"status"`
	Progress   struct {
		Step      int    `json:"step"`
		StepCount int    `json:"step_count"`
		StepName  string `json:"step_name"`
	} `json:"progress"`
	Log        string     `json:"log"`
	Error      *string    `json:"error"`
	Attempts   int        `json:"attempts"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

type operationList struct {
	Data       []operationBody `json:"data"`
	Pagination struct {
		Total int64 `json:"total"`
	} `json:"pagination"`
}

func enqueueOperation(t *testing.T, e *apitest.Env, orgID, targetID string, p jobtest.Params) *store.Operation {
	t.Helper()
	var op *store.Operation
	err := e.Server.Store.Tx(context.Background(), func(tx *store.Store) error {
		var err error
		op, err = e.Server.Jobs.Enqueue(context.Background(), tx, jobs.Input{
			OrgID: orgID, Kind: jobtest.Kind, TargetType: "widget", TargetID: targetID, Params: p,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestOperationsAPI(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		acme, globex := e.Register(t, "acme"), e.Register(t, "globex")
		trace := filepath.Join(t.TempDir(), "trace.log")
		params := jobtest.Params{File: trace, Steps: 3}
		first := enqueueOperation(t, e, acme.OrgID, "w-1", params)
		second := enqueueOperation(t, e, acme.OrgID, "w-2", params)
		theirs := enqueueOperation(t, e, globex.OrgID, "w-1", params)

		t.Run("get", func(t *testing.T) {
			resp := e.Do(t, http.MethodGet, "/api/v1/operations/"+first.ID, acme.Token, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var op operationBody
			resp.Decode(t, &op)
			if op.ID != first.ID || op.Kind != jobtest.Kind || op.TargetType != "widget" || op.TargetID != "w-1" ||
				op.Status != "queued" || op.Error != nil || op.StartedAt != nil || op.Attempts != 0 {
				t.Fatalf("operation = %+v", op)
			}
		})

		t.Run("another tenant's operation is not found", func(t *testing.T) {
			for _, id := range []string{theirs.ID, "does-not-exist"} {
				resp := e.Do(t, http.MethodGet, "/api/v1/operations/"+id, acme.Token, nil)
				if resp.Status != http.StatusNotFound || resp.ErrorCode(t) != "not_found" {
					t.Fatalf("GET %s: status %d %s, want 404 not_found", id, resp.Status, resp.Body)
				}
			}
			resp := e.Do(t, http.MethodGet, "/api/v1/operations/"+first.ID, globex.Token, nil)
			if resp.Status != http.StatusNotFound {
				t.Fatalf("globex reading acme's operation: status %d, want 404", resp.Status)
			}
		})

		t.Run("list and filters", func(t *testing.T) {
			tests := []struct {
				query string
				total int64
				ids   []string
			}{
				{"", 2, []string{second.ID, first.ID}},
				{"?target_type=widget&target_id=w-1", 1, []string{first.ID}},
				{"?status=queued", 2, []string{second.ID, first.ID}},
				{"?status=succeeded", 0, nil},
				{"?target_type=site", 0, nil},
				{"?limit=1", 2, []string{second.ID}},
				{"?limit=1&offset=1", 2, []string{first.ID}},
			}
			for _, tt := range tests {
				resp := e.Do(t, http.MethodGet, "/api/v1/operations"+tt.query, acme.Token, nil)
				if resp.Status != http.StatusOK {
					t.Fatalf("%s: status %d %s", tt.query, resp.Status, resp.Body)
				}
				var list operationList
				resp.Decode(t, &list)
				var ids []string
				for _, op := range list.Data {
					ids = append(ids, op.ID)
				}
				if list.Pagination.Total != tt.total || strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
					t.Errorf("%s: total %d ids %v, want %d %v", tt.query, list.Pagination.Total, ids, tt.total, tt.ids)
				}
			}
		})

		t.Run("unknown status is a field error", func(t *testing.T) {
			resp := e.Do(t, http.MethodGet, "/api/v1/operations?status=done", acme.Token, nil, apitest.Invalid())
			if resp.Status != http.StatusUnprocessableEntity || resp.ErrorFields(t)["status"] == "" {
				t.Fatalf("status %d %s, want 422 naming status", resp.Status, resp.Body)
			}
		})

		t.Run("progress of a finished operation", func(t *testing.T) {
			if err := e.Server.Jobs.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			var op operationBody
			for {
				e.Do(t, http.MethodGet, "/api/v1/operations/"+first.ID, acme.Token, nil).Decode(t, &op)
				if op.Status == "succeeded" || op.Status == "failed" || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if op.Status != "succeeded" || op.Progress.Step != 2 || op.Progress.StepCount != 3 || op.Progress.StepName != "step-3" ||
				op.Attempts != 1 || op.Error != nil || op.StartedAt == nil || op.FinishedAt == nil || !strings.Contains(op.Log, "step-3 wrote its line") {
				t.Fatalf("finished operation = %+v", op)
			}
		})
	}, apitest.WithEnv("CHOM_TEST_JOB_KINDS", "1"))
}
