package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/riverqueue/river"

	"github.com/chomhq/chom/server/internal/store"
)

// operationArgs is the River job behind an operation. It carries ids only,
// so River's table never holds parameters, let alone secrets.
type operationArgs struct {
	OperationID string `json:"operation_id"`
	OrgID       string `json:"organization_id"`
}

func (operationArgs) Kind() string { return "chom.operation" }

func (operationArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queueName} }

type operationWorker struct {
	river.WorkerDefaults[operationArgs]
	q *Queue
}

func (w *operationWorker) Work(ctx context.Context, job *river.Job[operationArgs]) error {
	return w.q.work(ctx, job.Args, job.Attempt, job.MaxAttempts)
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (a refused host key,
// rejected credentials): the operation fails at once instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// DecodeParams reads the operation's parameters (Input.Params) into dst.
func DecodeParams(op *store.Operation, dst any) error {
	if err := json.Unmarshal([]byte(op.Params), dst); err != nil {
		return fmt.Errorf("operation params: %w", err)
	}
	return nil
}

func encodeParams(p any) (string, error) {
	if p == nil {
		return "{}", nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("params: %w", err)
	}
	if string(b) == "null" {
		return "{}", nil
	}
	return string(b), nil
}

// bookkeepingContext outlives a cancelled job: recording that an attempt
// failed or was interrupted must still reach the database.
func bookkeepingContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// work runs one attempt of an operation.
func (q *Queue) work(ctx context.Context, args operationArgs, attempt, maxAttempts int) (err error) {
	op, err := q.st.Operation(ctx, args.OrgID, args.OperationID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted with its organization: nothing is left to do.
		return river.JobCancel(fmt.Errorf("operation %s no longer exists", args.OperationID))
	}
	if err != nil {
		return err
	}
	if op.Done() {
		return nil
	}
	r := newRun(q, op)
	h, ok := q.handler(op.Kind)
	defer func() {
		if p := recover(); p != nil {
			q.log.Error("operation panicked", slog.String("operation_id", op.ID), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = q.fail(ctx, r, h, attempt, maxAttempts, fmt.Errorf("internal error: %v", p))
		}
	}()
	if !ok {
		return q.fail(ctx, r, nil, attempt, maxAttempts, fmt.Errorf("no handler for operation kind %q on this server", op.Kind))
	}

	started := now()
	r.update(func(op *store.Operation) {
		op.Status, op.Attempts = store.OperationRunning, attempt
		if op.StartedAt == nil {
			op.StartedAt = &started
		}
	})
	r.Logf("attempt %d of %d started", attempt, maxAttempts)
	if err := q.saveRun(r); err != nil {
		return err
	}

	steps, err := h.Steps(ctx, op)
	if err == nil && len(steps) == 0 {
		err = errors.New("the handler planned no steps")
	}
	if err != nil {
		return q.fail(ctx, r, h, attempt, maxAttempts, fmt.Errorf("plan steps: %w", err))
	}
	first := min(op.Step, len(steps)-1)
	if first > 0 {
		r.Logf("resuming at step %d of %d; the steps before it are done", first+1, len(steps))
	}
	for i := first; i < len(steps); i++ {
		if q.stopping.Load() {
			return q.pause(r, i, steps)
		}
		r.update(func(op *store.Operation) { op.Step, op.StepCount, op.StepName = i, len(steps), steps[i].Name })
		r.Logf("step %d of %d: %s", i+1, len(steps), steps[i].Name)
		if err := q.saveRun(r); err != nil {
			return err
		}
		if err := steps[i].Run(ctx, r); err != nil {
			return q.fail(ctx, r, h, attempt, maxAttempts, fmt.Errorf("step %q: %w", steps[i].Name, err))
		}
	}
	if err := h.OnSuccess(ctx, op); err != nil {
		return q.fail(ctx, r, h, attempt, maxAttempts, fmt.Errorf("finish: %w", err))
	}
	finished := now()
	r.update(func(op *store.Operation) {
		op.Status, op.Error, op.FinishedAt = store.OperationSucceeded, "", &finished
	})
	r.Logf("succeeded")
	return q.saveRun(r)
}

func (q *Queue) saveRun(r *Run) error {
	ctx, cancel := bookkeepingContext()
	defer cancel()
	return r.save(ctx)
}

// pause puts an operation back in the queue before step next because the
// server is shutting down; it resumes there on any server, without using
// up an attempt.
func (q *Queue) pause(r *Run, next int, steps []Step) error {
	r.update(func(op *store.Operation) {
		op.Status, op.Step, op.StepCount, op.StepName = store.OperationQueued, next, len(steps), steps[next].Name
	})
	r.Logf("paused by a server shutdown; will resume at step %d of %d", next+1, len(steps))
	if err := q.saveRun(r); err != nil {
		return err
	}
	return river.JobSnooze(0)
}

// fail records a failed attempt. Before the last attempt the operation goes
// back to queued and River retries it with backoff; after it, or for a
// permanent error, the handler's OnFailure runs and the operation fails.
func (q *Queue) fail(ctx context.Context, r *Run, h Handler, attempt, maxAttempts int, cause error) error {
	if ctx.Err() != nil && q.stopping.Load() {
		// Shutdown cut the step short: it runs again from its start.
		r.update(func(op *store.Operation) { op.Status = store.OperationQueued })
		r.Logf("interrupted by a server shutdown; will resume at this step")
		if err := q.saveRun(r); err != nil {
			return err
		}
		return river.JobSnooze(0)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		cause = fmt.Errorf("%w (the attempt ran past the job timeout of %s)", cause, q.cfg.JobTimeout)
	}
	msg := r.errorText(cause)
	// River keeps and logs the error it is given, so it gets the redacted text.
	shown := errors.New(msg)
	r.Logf("attempt %d of %d failed: %s", attempt, maxAttempts, msg)
	if !IsPermanent(cause) && attempt < maxAttempts {
		r.update(func(op *store.Operation) { op.Status, op.Error = store.OperationQueued, msg })
		r.Logf("will retry")
		if err := q.saveRun(r); err != nil {
			return errors.Join(shown, err)
		}
		return shown
	}
	if err := q.finishFailed(r, h, cause); err != nil {
		return errors.Join(shown, err)
	}
	if IsPermanent(cause) {
		return river.JobCancel(shown)
	}
	return shown
}

// finishFailed runs OnFailure and marks the operation failed for good.
func (q *Queue) finishFailed(r *Run, h Handler, cause error) error {
	ctx, cancel := bookkeepingContext()
	defer cancel()
	msg := r.errorText(cause)
	if h != nil {
		if err := h.OnFailure(ctx, r.Op, cause); err != nil {
			q.log.Error("operation failure handler failed", slog.String("operation_id", r.Op.ID), slog.String("error", r.errorText(err)))
			r.Logf("cleaning up after the failure failed: %s", r.errorText(err))
		}
	}
	finished := now()
	r.update(func(op *store.Operation) {
		op.Status, op.Error, op.FinishedAt = store.OperationFailed, msg, &finished
	})
	r.Logf("failed: %s", msg)
	return r.save(ctx)
}
