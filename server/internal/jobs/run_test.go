package jobs

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/store"
)

func TestCapLog(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	long := strings.Repeat(line, maxLogBytes/len(line)+10)
	tests := []struct {
		name      string
		in        string
		wantSame  bool
		wantStart string
	}{
		{"short log is kept", "a\nb\n", true, "a\n"},
		{"exactly the cap is kept", strings.Repeat("y", maxLogBytes), true, "y"},
		{"long log keeps the newest whole lines", long + "newest\n", false, droppedMark + "xxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := capLog(tt.in)
			if len(got) > maxLogBytes {
				t.Fatalf("len %d exceeds the cap %d", len(got), maxLogBytes)
			}
			if (got == tt.in) != tt.wantSame {
				t.Fatalf("kept unchanged = %v, want %v", got == tt.in, tt.wantSame)
			}
			if !strings.HasPrefix(got, tt.wantStart) {
				t.Fatalf("starts with %q, want %q", got[:min(len(got), 40)], tt.wantStart)
			}
			if !tt.wantSame && (!strings.HasSuffix(got, "newest\n") || !strings.HasPrefix(got[len(droppedMark):], line)) {
				t.Fatalf("the newest line or whole-line cut is lost: ...%q", got[len(got)-20:])
			}
		})
	}
}

func TestRedact(t *testing.T) {
	r := newRun(nil, &store.Operation{})
	r.Secret("hunter2", "", "hunter22")
	tests := []struct{ in, want string }{
		{"password hunter22 and hunter2", "password [REDACTED] and [REDACTED]"},
		{"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- tail", "[REDACTED] tail"},
		{"cut -----BEGIN EC PRIVATE KEY-----\nabc", "cut [REDACTED]"},
		{"nothing secret", "nothing secret"},
	}
	for _, tt := range tests {
		if got := r.redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type failureCounter struct{ failures []error }

func (h *failureCounter) Kind() string { return "test.reconcile" }
func (h *failureCounter) Steps(context.Context, *store.Operation) ([]Step, error) {
	return nil, errors.New("not run in this test")
}
func (h *failureCounter) OnSuccess(context.Context, *store.Operation) error { return nil }
func (h *failureCounter) OnFailure(_ context.Context, _ *store.Operation, err error) error {
	h.failures = append(h.failures, err)
	return nil
}

// TestReconcileFailsOperationsWhoseJobEnded covers the job that ends where
// no worker code runs, such as a last attempt rescued from a dead server.
func TestReconcileFailsOperationsWhoseJobEnded(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "chom.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := New(st, Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := &failureCounter{}
	q.Register(h)
	org := &store.Organization{ID: store.NewID(), Name: "acme"}
	if err := st.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	enqueue := func() *store.Operation {
		var op *store.Operation
		if err := st.Tx(ctx, func(tx *store.Store) error {
			var err error
			op, err = q.Enqueue(ctx, tx, Input{OrgID: org.ID, Kind: h.Kind(), TargetType: "widget", TargetID: "w"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return op
	}
	ended, waiting := enqueue(), enqueue()
	if _, err := q.client.JobCancel(ctx, *ended.JobID); err != nil {
		t.Fatal(err)
	}

	if err := q.reconcileBefore(ctx, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Operation(ctx, org.ID, ended.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.OperationFailed || !strings.Contains(got.Error, "cancelled") || got.FinishedAt == nil {
		t.Fatalf("operation whose job was cancelled = %+v, want failed", got)
	}
	if len(h.failures) != 1 {
		t.Fatalf("OnFailure ran %d times, want 1", len(h.failures))
	}
	if still, err := st.Operation(ctx, org.ID, waiting.ID); err != nil || still.Status != store.OperationQueued {
		t.Fatalf("operation whose job is still available = %+v (%v), want it left queued", still, err)
	}
}
