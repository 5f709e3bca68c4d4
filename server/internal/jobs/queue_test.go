package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/jobs/jobtest"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// recorder is a handler whose steps and callbacks count their calls.
type recorder struct {
	kind  string
	steps func(h *recorder) []jobs.Step

	mu        sync.Mutex
	calls     []string
	successes int
	failures  []error
}

func (h *recorder) Kind() string { return h.kind }

func (h *recorder) Steps(context.Context, *store.Operation) ([]jobs.Step, error) {
	return h.steps(h), nil
}

func (h *recorder) OnSuccess(context.Context, *store.Operation) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.successes++
	return nil
}

func (h *recorder) OnFailure(_ context.Context, _ *store.Operation, err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures = append(h.failures, err)
	return nil
}

func (h *recorder) record(call string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call)
}

func (h *recorder) snapshot() (calls []string, successes int, failures []error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...), h.successes, append([]error(nil), h.failures...)
}

var dialects = []store.Dialect{store.SQLite, store.Postgres}

// quiet keeps River's start and stop messages out of the test output.
var quiet = slog.New(slog.DiscardHandler)

type fixture struct {
	st    *store.Store
	q     *jobs.Queue
	orgID string
}

func newFixture(t *testing.T, dialect store.Dialect, cfg jobs.Config, handlers ...jobs.Handler) *fixture {
	t.Helper()
	st := openStore(t, dialect)
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	q, err := jobs.New(st, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range handlers {
		q.Register(h)
	}
	org := &store.Organization{ID: store.NewID(), Name: "acme", MaxSites: 1, MaxVPS: 1, MaxBackups: 1, MaxStorageBytes: 1}
	if err := st.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, q: q, orgID: org.ID}
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	if err := f.q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.q.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

func (f *fixture) enqueue(t *testing.T, kind string, params any) *store.Operation {
	t.Helper()
	var op *store.Operation
	err := f.st.Tx(context.Background(), func(tx *store.Store) error {
		var err error
		op, err = f.q.Enqueue(context.Background(), tx, jobs.Input{OrgID: f.orgID, Kind: kind, TargetType: "widget", TargetID: "w-1", Params: params})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func (f *fixture) wait(t *testing.T, id string) *store.Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	op, err := jobtest.Wait(ctx, f.st, f.orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func (f *fixture) riverJobs(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.st.SQLDB().QueryRow("SELECT count(*) FROM river_job WHERE kind = 'chom.operation'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueCommitsOrRollsBackWithTheTransaction(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			h := &recorder{kind: "test.noop", steps: func(*recorder) []jobs.Step { return nil }}
			f := newFixture(t, d, jobs.Config{}, h)
			ctx := context.Background()

			var rolledBack *store.Operation
			boom := errors.New("the mutation failed")
			err := f.st.Tx(ctx, func(tx *store.Store) error {
				op, err := f.q.Enqueue(ctx, tx, jobs.Input{OrgID: f.orgID, Kind: h.kind, TargetType: "widget", TargetID: "w-1"})
				if err != nil {
					return err
				}
				rolledBack = op
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("tx error = %v, want the mutation's error", err)
			}
			if rolledBack == nil {
				t.Fatal("enqueue inside the transaction returned no operation")
			}
			if _, err := f.st.Operation(ctx, f.orgID, rolledBack.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("operation after rollback: err = %v, want not found", err)
			}
			if n := f.riverJobs(t); n != 0 {
				t.Fatalf("%d River jobs after rollback, want 0", n)
			}

			committed := f.enqueue(t, h.kind, nil)
			got, err := f.st.Operation(ctx, f.orgID, committed.ID)
			if err != nil {
				t.Fatalf("operation after commit: %v", err)
			}
			if got.Status != store.OperationQueued || got.JobID == nil || got.Params != "{}" {
				t.Fatalf("committed operation = %+v, want queued with a job and empty params", got)
			}
			if n := f.riverJobs(t); n != 1 {
				t.Fatalf("%d River jobs after commit, want 1", n)
			}
		})
	}
}

func TestEnqueueRefusals(t *testing.T) {
	h := &recorder{kind: "test.noop", steps: func(*recorder) []jobs.Step { return nil }}
	f := newFixture(t, store.SQLite, jobs.Config{}, h)
	ctx := context.Background()
	tests := []struct {
		name string
		in   jobs.Input
		tx   bool
		want string
	}{
		{"outside a transaction", jobs.Input{OrgID: f.orgID, Kind: h.kind, TargetType: "widget", TargetID: "w"}, false, "transaction"},
		{"unknown kind", jobs.Input{OrgID: f.orgID, Kind: "test.unknown", TargetType: "widget", TargetID: "w"}, true, "no handler"},
		{"no target", jobs.Input{OrgID: f.orgID, Kind: h.kind}, true, "target"},
		{"unencodable params", jobs.Input{OrgID: f.orgID, Kind: h.kind, TargetType: "widget", TargetID: "w", Params: func() {}}, true, "params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.tx {
				err = f.st.Tx(ctx, func(tx *store.Store) error {
					_, err := f.q.Enqueue(ctx, tx, tt.in)
					return err
				})
			} else {
				_, err = f.q.Enqueue(ctx, f.st, tt.in)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if n := f.riverJobs(t); n != 0 {
		t.Fatalf("%d River jobs after refused enqueues, want 0", n)
	}
}

func TestStepsRunInOrderWithProgressRecorded(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			names := []string{"connect", "install", "verify"}
			var f *fixture
			h := &recorder{kind: "test.three"}
			var progressErrs []string
			h.steps = func(h *recorder) []jobs.Step {
				steps := make([]jobs.Step, len(names))
				for i, name := range names {
					steps[i] = jobs.Step{Name: name, Run: func(ctx context.Context, r *jobs.Run) error {
						h.record(name)
						// The row must say which step runs while it runs.
						op, err := f.st.Operation(ctx, r.Op.OrganizationID, r.Op.ID)
						if err != nil {
							return err
						}
						if op.Status != store.OperationRunning || op.Step != i || op.StepCount != len(names) || op.StepName != name {
							h.mu.Lock()
							progressErrs = append(progressErrs, fmt.Sprintf("during %s: status=%s step=%d/%d name=%q", name, op.Status, op.Step, op.StepCount, op.StepName))
							h.mu.Unlock()
						}
						r.Logf("%s done", name)
						return nil
					}}
				}
				return steps
			}
			f = newFixture(t, d, jobs.Config{}, h)
			f.start(t)
			op := f.wait(t, f.enqueue(t, h.kind, map[string]string{"size": "small"}).ID)

			calls, successes, failures := h.snapshot()
			if strings.Join(calls, ",") != "connect,install,verify" {
				t.Fatalf("steps ran %v, want connect, install, verify once each", calls)
			}
			if len(progressErrs) > 0 {
				t.Fatalf("progress not recorded: %v", progressErrs)
			}
			if successes != 1 || len(failures) != 0 {
				t.Fatalf("OnSuccess ran %d times and OnFailure %d, want 1 and 0", successes, len(failures))
			}
			if op.Status != store.OperationSucceeded || op.Step != 2 || op.StepCount != 3 || op.StepName != "verify" ||
				op.Attempts != 1 || op.Error != "" || op.StartedAt == nil || op.FinishedAt == nil || op.FinishedAt.Before(*op.StartedAt) {
				t.Fatalf("finished operation = %+v", op)
			}
			for _, want := range []string{"step 1 of 3: connect", "install done", "step 3 of 3: verify", "succeeded"} {
				if !strings.Contains(op.Log, want) {
					t.Errorf("log lacks %q:\n%s", want, op.Log)
				}
			}
			if op.Params != `{"size":"small"}` {
				t.Errorf("params = %s", op.Params)
			}
		})
	}
}

func TestFailingStepRetriesThenFails(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			h := &recorder{kind: "test.failing"}
			h.steps = func(h *recorder) []jobs.Step {
				return []jobs.Step{
					{Name: "prepare", Run: func(_ context.Context, r *jobs.Run) error {
						h.record(fmt.Sprintf("prepare#%d", r.Op.Attempts))
						return nil
					}},
					{Name: "write", Run: func(_ context.Context, r *jobs.Run) error {
						h.record(fmt.Sprintf("write#%d", r.Op.Attempts))
						return errors.New("disk full")
					}},
					{Name: "never", Run: func(context.Context, *jobs.Run) error {
						h.record("never")
						return nil
					}},
				}
			}
			f := newFixture(t, d, jobs.Config{MaxAttempts: 2}, h)
			f.start(t)
			op := f.wait(t, f.enqueue(t, h.kind, nil).ID)

			calls, successes, failures := h.snapshot()
			// The retry resumes at the step that failed: prepare is done.
			if strings.Join(calls, ",") != "prepare#1,write#1,write#2" {
				t.Fatalf("steps ran %v, want prepare#1, write#1, write#2", calls)
			}
			if successes != 0 || len(failures) != 1 || !strings.Contains(failures[0].Error(), "disk full") {
				t.Fatalf("OnSuccess ran %d times, OnFailure got %v; want 0 and one call with the step's error", successes, failures)
			}
			if op.Status != store.OperationFailed || op.Attempts != 2 || op.Step != 1 || op.StepName != "write" ||
				!strings.Contains(op.Error, "disk full") || op.FinishedAt == nil {
				t.Fatalf("failed operation = %+v", op)
			}
			for _, want := range []string{"attempt 1 of 2 failed", "will retry", "resuming at step 2 of 3", "attempt 2 of 2 failed", "failed: "} {
				if !strings.Contains(op.Log, want) {
					t.Errorf("log lacks %q:\n%s", want, op.Log)
				}
			}
		})
	}
}

func TestPermanentErrorFailsWithoutRetry(t *testing.T) {
	h := &recorder{kind: "test.permanent"}
	h.steps = func(h *recorder) []jobs.Step {
		return []jobs.Step{{Name: "check", Run: func(context.Context, *jobs.Run) error {
			h.record("check")
			return jobs.Permanent(errors.New("host key changed"))
		}}}
	}
	f := newFixture(t, store.SQLite, jobs.Config{MaxAttempts: 5}, h)
	f.start(t)
	op := f.wait(t, f.enqueue(t, h.kind, nil).ID)
	calls, _, failures := h.snapshot()
	if len(calls) != 1 || len(failures) != 1 {
		t.Fatalf("step ran %d times and OnFailure %d, want 1 and 1", len(calls), len(failures))
	}
	if op.Status != store.OperationFailed || op.Attempts != 1 || !strings.Contains(op.Error, "host key changed") {
		t.Fatalf("operation = %+v", op)
	}
}

func TestSecretsAreMaskedInLogAndError(t *testing.T) {
	const secret = "s3cr3t-Pa55word"
	h := &recorder{kind: "test.secret"}
	h.steps = func(*recorder) []jobs.Step {
		return []jobs.Step{{Name: "login", Run: func(_ context.Context, r *jobs.Run) error {
			r.Secret(secret)
			r.Logf("logging in with %s", secret)
			r.Logf("key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkey\n-----END OPENSSH PRIVATE KEY-----")
			return jobs.Permanent(fmt.Errorf("login refused for password %s", secret))
		}}}
	}
	f := newFixture(t, store.SQLite, jobs.Config{}, h)
	f.start(t)
	op := f.wait(t, f.enqueue(t, h.kind, nil).ID)
	if op.Status != store.OperationFailed {
		t.Fatalf("status %s", op.Status)
	}
	if !strings.Contains(op.Log, "logging in with [REDACTED]") || !strings.Contains(op.Error, "password [REDACTED]") {
		t.Fatalf("secret not masked where expected:\nlog: %s\nerror: %s", op.Log, op.Error)
	}
	// River records the job's end after the operation's, in its own time.
	var riverErrors string
	for deadline := time.Now().Add(10 * time.Second); riverErrors == ""; time.Sleep(50 * time.Millisecond) {
		var text sql.NullString
		if err := f.st.SQLDB().QueryRow("SELECT CAST(errors AS TEXT) FROM river_job WHERE id = ?", *op.JobID).Scan(&text); err != nil {
			t.Fatal(err)
		}
		riverErrors = text.String
		if time.Now().After(deadline) {
			t.Fatal("River never recorded the job's error")
		}
	}
	if !strings.Contains(riverErrors, "password [REDACTED]") {
		t.Errorf("river_job.errors = %s, want the redacted error", riverErrors)
	}
	for where, text := range map[string]string{"log": op.Log, "error": op.Error, "river_job.errors": riverErrors} {
		if strings.Contains(text, secret) || strings.Contains(text, "AAAAkey") {
			t.Errorf("%s holds a secret: %s", where, text)
		}
	}
}

func TestPeriodicWorkRuns(t *testing.T) {
	f := newFixture(t, store.SQLite, jobs.Config{})
	ticks := make(chan struct{}, 10)
	f.q.AddPeriodic("test.tick", 200*time.Millisecond, func(context.Context) error {
		ticks <- struct{}{}
		return nil
	})
	f.start(t)
	deadline := time.After(30 * time.Second)
	for i := 0; i < 2; i++ {
		select {
		case <-ticks:
		case <-deadline:
			t.Fatalf("periodic work ran %d times in 30s, want 2", i)
		}
	}
}

// TestSeveralServersShareTheQueue runs two queues on one PostgreSQL
// database, as two replicas would: every operation runs exactly once.
func TestSeveralServersShareTheQueue(t *testing.T) {
	url := storetest.PostgresDatabase(t)
	const ops = 12
	var mu sync.Mutex
	runs := map[string]int{}
	newReplica := func() (*store.Store, *jobs.Queue) {
		st, err := store.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.MigrateUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		q, err := jobs.New(st, jobs.Config{Workers: 4, PollInterval: 100 * time.Millisecond}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		q.Register(&recorder{kind: "test.shared", steps: func(*recorder) []jobs.Step {
			return []jobs.Step{{Name: "count", Run: func(_ context.Context, r *jobs.Run) error {
				mu.Lock()
				runs[r.Op.ID]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				return nil
			}}}
		}})
		f := &fixture{st: st, q: q}
		f.start(t)
		return st, q
	}
	st, q := newReplica()
	newReplica()
	org := &store.Organization{ID: store.NewID(), Name: "acme"}
	if err := st.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, q: q, orgID: org.ID}
	var ids []string
	for range ops {
		ids = append(ids, f.enqueue(t, "test.shared", nil).ID)
	}
	for _, id := range ids {
		if op := f.wait(t, id); op.Status != store.OperationSucceeded {
			t.Fatalf("operation %s: %s (%s)", id, op.Status, op.Error)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if runs[id] != 1 {
			t.Errorf("operation %s ran %d times, want once", id, runs[id])
		}
	}
}
