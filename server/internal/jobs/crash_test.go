package jobs_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/jobs/jobtest"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// startServer runs the real chom-server binary on the fixture's database
// with the job system's test operation kinds.
func (c *crashFixture) startServer(t *testing.T) *apitest.Process {
	t.Helper()
	env := map[string]string{
		"CHOM_TEST_JOB_KINDS": "1",
		// Far longer than the test: only the restart's reclaim of the
		// killed process's jobs can resume the operation in time.
		"CHOM_JOB_TIMEOUT":      "30m",
		"CHOM_JOB_RESCUE_AFTER": "35m",
		"CHOM_SHUTDOWN_TIMEOUT": "20s",
		"CHOM_DATABASE_URL":     c.dbURL,
	}
	if c.replicaID != "" {
		env["CHOM_REPLICA_ID"] = c.replicaID
	}
	return apitest.StartProcess(t, c.dir, apitest.FreeAddr(t), env)
}

// crashFixture is the test's own view of the server's database: it
// enqueues and inspects operations while the server binary works them.
type crashFixture struct {
	dir, dbURL, replicaID string
	trace                 string
	f                     *fixture
}

// newCrashFixture makes the database the server binary will run on: the
// embedded SQLite in its data directory, or a scratch PostgreSQL database
// shared, as replicas would, under replicaID.
func newCrashFixture(t *testing.T, dialect store.Dialect, replicaID string) *crashFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "chom.db")
	if dialect == store.Postgres {
		dbURL = storetest.PostgresDatabase(t)
	}
	st, err := store.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	// Migrated before the server starts, so the two never race on it.
	if _, err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(st, jobs.Config{}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	jobtest.Register(q)
	org := &store.Organization{ID: store.NewID(), Name: "acme"}
	if err := st.CreateOrganization(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return &crashFixture{
		dir: dir, dbURL: dbURL, replicaID: replicaID, trace: filepath.Join(dir, "trace.log"),
		f: &fixture{st: st, q: q, orgID: org.ID},
	}
}

func (c *crashFixture) waitForLine(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		lines, err := jobtest.Lines(c.trace)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(lines, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the trace never got %q", want)
}

func (c *crashFixture) lines(t *testing.T) []string {
	t.Helper()
	lines, err := jobtest.Lines(c.trace)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestOperationSurvivesServerKill kills the server with SIGKILL in the
// middle of a step: after a restart the operation is rescued and finishes,
// the cut step runs again and the steps before it do not. On PostgreSQL the
// restarted server carries the killed one's replica id, which is what lets
// it take the operation back long before River's stuck-job rescue would.
func TestOperationSurvivesServerKill(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testOperationSurvivesServerKill(t, newCrashFixture(t, store.SQLite, "")) })
	t.Run("postgres", func(t *testing.T) {
		testOperationSurvivesServerKill(t, newCrashFixture(t, store.Postgres, "replica-a"))
	})
}

func testOperationSurvivesServerKill(t *testing.T, c *crashFixture) {
	op := c.f.enqueue(t, jobtest.Kind, jobtest.Params{File: c.trace, Steps: 3, SlowStep: 2, Sleep: "3s"})

	first := c.startServer(t)
	c.waitForLine(t, "step-2 attempt=1")
	first.Kill(t)

	mid, err := c.f.st.Operation(context.Background(), c.f.orgID, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mid.Status != store.OperationRunning || mid.Step != 1 || mid.StepName != "step-2" {
		t.Fatalf("after the kill the operation is %s at step %d (%s), want running at step 1 (step-2)", mid.Status, mid.Step, mid.StepName)
	}

	c.startServer(t)
	done := c.f.wait(t, op.ID)

	want := []string{"step-1 attempt=1", "step-2 attempt=1", "step-2 attempt=2", "step-3 attempt=2", "success"}
	if got := c.lines(t); !slices.Equal(got, want) {
		t.Fatalf("trace = %q, want %q", got, want)
	}
	if done.Status != store.OperationSucceeded || done.Attempts != 2 || done.Step != 2 || done.StepCount != 3 {
		t.Fatalf("operation = %s attempts=%d step=%d/%d, want succeeded after 2 attempts at step 2/3", done.Status, done.Attempts, done.Step, done.StepCount)
	}
	if !strings.Contains(done.Log, "resuming at step 2 of 3") {
		t.Errorf("log does not show the resume:\n%s", done.Log)
	}
}

// TestShutdownHandsBackOperationsBetweenSteps stops the server with SIGTERM
// during a step: the step finishes, the server exits cleanly, and after a
// restart the operation continues with the next step, within the same
// attempt.
func TestShutdownHandsBackOperationsBetweenSteps(t *testing.T) {
	c := newCrashFixture(t, store.SQLite, "")
	op := c.f.enqueue(t, jobtest.Kind, jobtest.Params{File: c.trace, Steps: 3, SlowStep: 2, Sleep: "2s"})

	first := c.startServer(t)
	c.waitForLine(t, "step-2 attempt=1")
	if err := first.Stop(t, 30*time.Second); err != nil {
		t.Fatalf("server did not exit cleanly: %v", err)
	}
	paused, err := c.f.st.Operation(context.Background(), c.f.orgID, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if paused.Status != store.OperationQueued || paused.Step != 2 || !strings.Contains(paused.Log, "paused by a server shutdown") {
		t.Fatalf("after shutdown the operation is %s at step %d, want queued at step 2:\n%s", paused.Status, paused.Step, paused.Log)
	}

	c.startServer(t)
	done := c.f.wait(t, op.ID)
	want := []string{"step-1 attempt=1", "step-2 attempt=1", "step-3 attempt=1", "success"}
	if got := c.lines(t); !slices.Equal(got, want) {
		t.Fatalf("trace = %q, want %q", got, want)
	}
	if done.Status != store.OperationSucceeded || done.Attempts != 1 {
		t.Fatalf("operation = %s after %d attempts, want succeeded after 1", done.Status, done.Attempts)
	}
}
