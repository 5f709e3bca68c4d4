package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/chomhq/chom/server/internal/store"
)

// periodicArgs is the River job of one run of periodic work.
type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string { return "chom.periodic" }

func (periodicArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queueName} }

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	q *Queue
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	w.q.mu.RLock()
	fn := w.q.periodic[job.Args.Name]
	w.q.mu.RUnlock()
	if fn == nil {
		return river.JobCancel(fmt.Errorf("no periodic work named %q on this server", job.Args.Name))
	}
	if err := fn(ctx); err != nil {
		return fmt.Errorf("periodic %s: %w", job.Args.Name, err)
	}
	return nil
}

const (
	// reconcileInterval is how often, and after how long without an
	// update, unfinished operations are checked against their jobs.
	reconcileInterval = time.Minute
	reconcileBatch    = 100
)

// reconcile fails operations whose job ended without finishing them. The
// worker records every failure it sees, but a job can also end where no
// worker code runs: River discards a job whose last attempt died with its
// server (stuck-job rescue), or whose worker crashed the process.
func (q *Queue) reconcile(ctx context.Context) error {
	return q.reconcileBefore(ctx, time.Now().Add(-reconcileInterval))
}

// reconcileBefore checks the unfinished operations not updated since before.
func (q *Queue) reconcileBefore(ctx context.Context, before time.Time) error {
	ops, err := q.st.StaleOperations(ctx, before, reconcileBatch)
	if err != nil {
		return err
	}
	var errs []error
	for i := range ops {
		op := &ops[i]
		reason, err := q.jobEnded(ctx, op)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if reason == "" {
			continue
		}
		h, _ := q.handler(op.Kind)
		q.log.Warn("failing an operation whose job ended", slog.String("operation_id", op.ID), slog.String("reason", reason))
		if err := q.finishFailed(newRun(q, op), h, errors.New(reason)); err != nil {
			errs = append(errs, fmt.Errorf("operation %s: %w", op.ID, err))
		}
	}
	return errors.Join(errs...)
}

// jobEnded explains why op's job can no longer finish it, or returns "" when
// the job is still pending, running or due for a retry.
func (q *Queue) jobEnded(ctx context.Context, op *store.Operation) (string, error) {
	if op.JobID == nil {
		return "the operation has no job", nil
	}
	job, err := q.client.JobGet(ctx, *op.JobID)
	if errors.Is(err, rivertype.ErrNotFound) {
		return "the operation's job no longer exists", nil
	}
	if err != nil {
		return "", fmt.Errorf("get job of operation %s: %w", op.ID, err)
	}
	switch job.State {
	case rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded:
		reason := fmt.Sprintf("the operation's job ended (%s) without finishing it", job.State)
		if n := len(job.Errors); n > 0 {
			reason += ": " + job.Errors[n-1].Error
		}
		return reason, nil
	}
	return "", nil
}
