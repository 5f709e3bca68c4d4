// Package jobs runs durable operations: long work (VPS bootstrap, site
// deploys, backups) split into idempotent steps, recorded in the operations
// table and driven by River jobs in the same database.
//
// An operation and its job are inserted in the caller's transaction, so a
// mutation and the work it starts commit or roll back together. A worker
// runs the handler's steps in order and records each one before running it;
// a retry, or a restart after a crash, resumes at the first step not
// recorded as done. Failures retry with River's backoff up to MaxAttempts,
// then the operation fails and the handler's OnFailure runs.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/chomhq/chom/server/internal/store"
)

// queueName is the one River queue operations and periodic work share.
const queueName = "chom"

// Config tunes the workers of one server.
type Config struct {
	// Workers is how many operations this server runs at once.
	Workers int
	// MaxAttempts bounds how often an operation is tried. Default 5.
	MaxAttempts int
	// JobTimeout bounds one attempt. Default 30 minutes.
	JobTimeout time.Duration
	// RescueAfter is how long an attempt may run before it is presumed dead
	// (its server killed) and retried elsewhere. It must exceed JobTimeout.
	// Default 35 minutes.
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for new jobs. Default 1s,
	// at least 100ms.
	PollInterval time.Duration
	// ReplicaID names this server among those sharing a PostgreSQL
	// database, the same across its restarts and never used by two running
	// servers at once. With it, a restart hands back at once the jobs its
	// killed predecessor left running, instead of after RescueAfter.
	// Empty: a new random name each start. At most 100 characters.
	ReplicaID string
}

func (c Config) withDefaults() (Config, error) {
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 30 * time.Minute
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.JobTimeout + 5*time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	// River fetches at most every 100ms whatever the poll interval.
	c.PollInterval = max(c.PollInterval, 100*time.Millisecond)
	if c.RescueAfter <= c.JobTimeout {
		return c, fmt.Errorf("jobs: rescue-after (%s) must exceed the job timeout (%s)", c.RescueAfter, c.JobTimeout)
	}
	if len(c.ReplicaID) > 100 {
		return c, errors.New("jobs: the replica id is longer than 100 characters")
	}
	return c, nil
}

// Input describes an operation to start.
type Input struct {
	OrgID      string
	Kind       string
	TargetType string
	TargetID   string
	// Params is stored as JSON and handed back to the handler. Never put a
	// secret here: seal it on the target row instead.
	Params any
}

// Queue enqueues operations and runs their workers.
type Queue struct {
	st     *store.Store
	cfg    Config
	log    *slog.Logger
	client *river.Client[*sql.Tx]

	mu       sync.RWMutex
	handlers map[string]Handler
	periodic map[string]func(ctx context.Context) error

	started  atomic.Bool
	stopping atomic.Bool
}

// New builds the queue over the store's database. The River schema must be
// in place (it ships as versioned migrations); New refuses to run against
// a schema older than the River library expects.
func New(st *store.Store, cfg Config, log *slog.Logger) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	q := &Queue{
		st: st, cfg: cfg, log: log.With(slog.String("component", "jobs")),
		handlers: map[string]Handler{},
		periodic: map[string]func(ctx context.Context) error{},
	}
	driver, err := newDriver(st)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(context.Background(), driver, q.log); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &operationWorker{q: q})
	river.AddWorker(workers, &periodicWorker{q: q})
	q.client, err = river.NewClient(driver, &river.Config{
		Queues:               map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		ID:                   cfg.ReplicaID,
		Logger:               q.log,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q.AddPeriodic("operations.reconcile", reconcileInterval, q.reconcile)
	return q, nil
}

// newDriver picks the River driver for the store's database. Both work on
// the store's own *sql.DB, so a job is inserted in the very transaction
// GORM opened (store.SQLTx).
func newDriver(st *store.Store) (riverdriver.Driver[*sql.Tx], error) {
	switch st.Dialect() {
	case store.SQLite:
		return riversqlite.New(st.SQLDB()), nil
	case store.Postgres:
		// database/sql has no LISTEN, so workers poll (PollInterval); the
		// upside is that any pooler in front of PostgreSQL works.
		return riverdatabasesql.New(st.SQLDB()), nil
	}
	return nil, fmt.Errorf("jobs: unsupported database %q", st.Dialect())
}

// checkSchema fails when River expects migrations the database lacks: the
// River schema comes from the versioned migrations, and a River upgrade
// without the matching migration must not start half-working.
func checkSchema(ctx context.Context, driver riverdriver.Driver[*sql.Tx], log *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: check queue schema: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("jobs: the queue schema is behind the River library (%v); add its migration to migrations/", res.Messages)
	}
	return nil
}

// Register makes a handler available for its kind. Call it before Start
// on every server, so that any server can run any operation.
func (q *Queue) Register(h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.handlers[h.Kind()]; dup {
		panic("jobs: handler for kind " + h.Kind() + " registered twice")
	}
	q.handlers[h.Kind()] = h
}

func (q *Queue) handler(kind string) (Handler, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	h, ok := q.handlers[kind]
	return h, ok
}

// Enqueue creates the operation row and the River job in the caller's
// transaction (tx from store.Tx), so a mutation's row and its operation
// commit or roll back together.
func (q *Queue) Enqueue(ctx context.Context, tx *store.Store, in Input) (*store.Operation, error) {
	sqlTx, ok := tx.SQLTx()
	if !ok {
		return nil, errors.New("enqueue operation: needs the store of a transaction (store.Tx)")
	}
	if _, ok := q.handler(in.Kind); !ok {
		return nil, fmt.Errorf("enqueue operation: no handler registered for kind %q", in.Kind)
	}
	if in.OrgID == "" || in.TargetType == "" || in.TargetID == "" {
		return nil, errors.New("enqueue operation: organization, target type and target id are required")
	}
	params, err := encodeParams(in.Params)
	if err != nil {
		return nil, fmt.Errorf("enqueue operation: %w", err)
	}
	op := &store.Operation{
		ID: store.NewID(), OrganizationID: in.OrgID, Kind: in.Kind,
		TargetType: in.TargetType, TargetID: in.TargetID,
		Status: store.OperationQueued, Params: params,
	}
	res, err := q.client.InsertTx(ctx, sqlTx, operationArgs{OperationID: op.ID, OrgID: op.OrganizationID}, nil)
	if err != nil {
		return nil, fmt.Errorf("enqueue operation: %w", err)
	}
	op.JobID = &res.Job.ID
	if err := tx.CreateOperation(ctx, op); err != nil {
		return nil, fmt.Errorf("enqueue operation: %w", err)
	}
	return op, nil
}

// AddPeriodic runs fn every interval on one server of the fleet (River's
// elected leader enqueues it). A run that is still queued or running when
// the next is due is not doubled. The first run comes one interval after
// start. Call it before Start, with a positive interval.
func (q *Queue) AddPeriodic(name string, interval time.Duration, fn func(ctx context.Context) error) {
	if interval <= 0 {
		panic("jobs: periodic work " + name + " needs a positive interval")
	}
	q.mu.Lock()
	if _, dup := q.periodic[name]; dup {
		q.mu.Unlock()
		panic("jobs: periodic work " + name + " added twice")
	}
	q.periodic[name] = fn
	q.mu.Unlock()
	q.client.PeriodicJobs().Add(river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return periodicArgs{Name: name}, &river.InsertOpts{
				MaxAttempts: 1,
				// Completed is left out of the states so that a finished
				// run does not block the next one.
				UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
					rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
					rivertype.JobStateRunning, rivertype.JobStateScheduled,
				}},
			}
		},
		&river.PeriodicJobOpts{ID: name},
	))
}

// Start runs the workers until Stop. Work continues after ctx ends; only
// Stop ends it, so that shutdown can be ordered.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.reclaimOrphans(ctx); err != nil {
		return err
	}
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	q.started.Store(true)
	q.stopping.Store(false)
	return nil
}

// reclaimOrphans hands back, at once, the jobs a killed process left
// running. On SQLite that is every running job: the embedded database
// belongs to this one process, so a job marked running there has no
// worker. On PostgreSQL another replica may be working a job; only those
// last taken by this replica's own id (Config.ReplicaID) are known to be
// orphans, and without an id River's stuck-job rescue decides.
func (q *Queue) reclaimOrphans(ctx context.Context) error {
	var res sql.Result
	var err error
	switch {
	case q.st.Dialect() == store.SQLite:
		res, err = q.st.SQLDB().ExecContext(ctx, `UPDATE river_job SET state = 'retryable' WHERE state = 'running'`)
	case q.cfg.ReplicaID != "":
		res, err = q.st.SQLDB().ExecContext(ctx, `UPDATE river_job SET state = 'retryable'
			WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1`, q.cfg.ReplicaID)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("reclaim interrupted jobs: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		q.log.InfoContext(ctx, "resuming operations interrupted by a restart", slog.Int64("jobs", n))
	}
	return nil
}

// Stop lets running steps finish until ctx ends, then cancels them. An
// operation interrupted either way goes back to the queue without using up
// an attempt and resumes on the next start: after the step that finished,
// or at the step that was cancelled. Stopping a queue that is not running
// does nothing.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.started.Load() {
		return nil
	}
	// Workers see this between steps and hand their operation back.
	q.stopping.Store(true)
	err := q.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("stop workers: %w", err)
	}
	q.started.Store(false)
	return nil
}
