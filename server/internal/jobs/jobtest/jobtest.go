// Package jobtest is test support for the job system: an operation kind
// whose steps leave a trace in a file, so a test driving the real server
// binary (killed and restarted mid-step) can count what ran. The server
// registers the kind only with CHOM_TEST_JOB_KINDS=1, which configuration
// refuses in production.
package jobtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/store"
)

// Kind is the test-only operation kind.
const Kind = "test.trace"

// Params tell a test operation what to do.
type Params struct {
	// File receives one line per step run: "<step> attempt=<n>", then
	// "success" or "failure: <error>" from the handler's callbacks.
	File string `json:"file"`
	// Steps is how many steps to run, named step-1 … step-N.
	Steps int `json:"steps"`
	// SlowStep (1-based; 0 for none) sleeps for Sleep after writing its line.
	SlowStep int    `json:"slow_step"`
	Sleep    string `json:"sleep"`
}

// Handler runs Kind operations.
type Handler struct{}

// Register adds the test-only kind to q.
func Register(q *jobs.Queue) { q.Register(Handler{}) }

// Kind implements jobs.Handler.
func (Handler) Kind() string { return Kind }

// Steps implements jobs.Handler.
func (Handler) Steps(_ context.Context, op *store.Operation) ([]jobs.Step, error) {
	var p Params
	if err := jobs.DecodeParams(op, &p); err != nil {
		return nil, jobs.Permanent(err)
	}
	if p.File == "" || p.Steps < 1 {
		return nil, jobs.Permanent(errors.New("params need a file and at least one step"))
	}
	sleep, err := time.ParseDuration(orZero(p.Sleep))
	if err != nil {
		return nil, jobs.Permanent(fmt.Errorf("sleep: %w", err))
	}
	steps := make([]jobs.Step, 0, p.Steps)
	for i := 1; i <= p.Steps; i++ {
		name := fmt.Sprintf("step-%d", i)
		slow := i == p.SlowStep
		steps = append(steps, jobs.Step{Name: name, Run: func(ctx context.Context, r *jobs.Run) error {
			if err := appendLine(p.File, fmt.Sprintf("%s attempt=%d", name, r.Op.Attempts)); err != nil {
				return err
			}
			r.Logf("%s wrote its line", name)
			if !slow {
				return nil
			}
			select {
			case <-time.After(sleep):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	}
	return steps, nil
}

// OnSuccess implements jobs.Handler.
func (Handler) OnSuccess(_ context.Context, op *store.Operation) error {
	var p Params
	if err := jobs.DecodeParams(op, &p); err != nil {
		return err
	}
	return appendLine(p.File, "success")
}

// OnFailure implements jobs.Handler.
func (Handler) OnFailure(_ context.Context, op *store.Operation, cause error) error {
	var p Params
	if err := jobs.DecodeParams(op, &p); err != nil || p.File == "" {
		return err
	}
	return appendLine(p.File, "failure: "+cause.Error())
}

func appendLine(file, line string) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("trace: %w", err)
	}
	// The process may be killed right after: the line must be on disk.
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("trace: %w", err)
	}
	return f.Close()
}

// Lines reads a trace file.
func Lines(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}

// Wait polls until the operation has finished or ctx ends.
func Wait(ctx context.Context, st *store.Store, orgID, id string) (*store.Operation, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		op, err := st.Operation(ctx, orgID, id)
		if err != nil {
			return nil, err
		}
		if op.Done() {
			return op, nil
		}
		select {
		case <-ctx.Done():
			return op, fmt.Errorf("operation %s still %s at step %d/%d: %w", id, op.Status, op.Step+1, op.StepCount, ctx.Err())
		case <-tick.C:
		}
	}
}

func orZero(d string) string {
	if d == "" {
		return "0s"
	}
	return d
}
