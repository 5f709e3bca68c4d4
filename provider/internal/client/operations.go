package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Operation statuses.
const (
	OperationQueued    = "queued"
	OperationRunning   = "running"
	OperationSucceeded = "succeeded"
	OperationFailed    = "failed"
)

// Operation is long work the server does on an object (provisioning a
// server, issuing a certificate) that a 202 answer hands back to wait on.
type Operation struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	TargetType string            `json:"target_type"`
	TargetID   string            `json:"target_id"`
	Status     string            `json:"status"`
	Progress   OperationProgress `json:"progress"`
	Log        string            `json:"log"`
	Error      string            `json:"error"`
	Attempts   int               `json:"attempts"`
	CreatedAt  time.Time         `json:"created_at"`
	// StartedAt and FinishedAt are nil until the first attempt starts and
	// the operation ends.
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// OperationList is one page of operations.
type OperationList struct {
	Data       []Operation `json:"data"`
	Pagination Pagination  `json:"pagination"`
}

// OperationListOptions filters and pages an operation list; zero values
// are omitted.
type OperationListOptions struct {
	TargetType string
	TargetID   string
	Status     string
	Limit      int
	Offset     int
}

func (o OperationListOptions) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"target_type": o.TargetType, "target_id": o.TargetID, "status": o.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	setPage(q, o.Limit, o.Offset)
	return q
}

// OperationProgress is where a running operation is.
type OperationProgress struct {
	Step      int    `json:"step"`
	StepCount int    `json:"step_count"`
	StepName  string `json:"step_name"`
}

// OperationError is an operation that ended in the failed status.
type OperationError struct {
	Operation *Operation
}

func (e *OperationError) Error() string {
	op := e.Operation
	msg := op.Error
	if msg == "" {
		msg = "no reason given"
	}
	where := ""
	if op.Progress.StepName != "" {
		where = fmt.Sprintf(" at step %d/%d (%s)", op.Progress.Step, op.Progress.StepCount, op.Progress.StepName)
	}
	return fmt.Sprintf("operation %s (%s of %s %s) failed%s: %s", op.ID, op.Kind, op.TargetType, op.TargetID, where, msg)
}

// Operation returns one operation by id.
func (c *Client) Operation(ctx context.Context, id string) (*Operation, error) {
	if id == "" {
		return nil, errors.New("get operation: id is empty")
	}
	var out Operation
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/operations/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("get operation %s: %w", id, err)
	}
	return &out, nil
}

// ListOperations returns one page of the organization's operations,
// newest first.
func (c *Client) ListOperations(ctx context.Context, opts OperationListOptions) (*OperationList, error) {
	var out OperationList
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/operations", query: opts.query()}, &out); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return &out, nil
}

// WaitForOperation polls the operation, backing off between polls, until it
// succeeds (returning it), fails (returning it with an *OperationError
// carrying its error) or ctx ends.
func (c *Client) WaitForOperation(ctx context.Context, id string) (*Operation, error) {
	for poll := 0; ; poll++ {
		op, err := c.Operation(ctx, id)
		if err != nil {
			return nil, err
		}
		switch op.Status {
		case OperationSucceeded:
			return op, nil
		case OperationFailed:
			return op, &OperationError{Operation: op}
		}
		tflog.Debug(ctx, "waiting for CHOM operation", map[string]any{
			"operation_id": op.ID, "kind": op.Kind, "status": op.Status,
			"step": op.Progress.Step, "step_count": op.Progress.StepCount, "step_name": op.Progress.StepName,
		})
		if err := sleep(ctx, c.pollWait.delay(poll)); err != nil {
			return op, fmt.Errorf("wait for operation %s (%s, %s): %w", op.ID, op.Kind, op.Status, err)
		}
	}
}

// RetryWhileBusy calls fn until it returns anything but a 409 conflict
// with one of codes (such as "operation_in_progress": another operation
// works on the object), backing off between calls like WaitForOperation,
// or until ctx ends. It returns fn's last error.
func (c *Client) RetryWhileBusy(ctx context.Context, fn func() error, codes ...string) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if !hasStatus(err, http.StatusConflict) || !slices.ContainsFunc(codes, func(code string) bool { return HasCode(err, code) }) {
			return err
		}
		tflog.Debug(ctx, "CHOM object busy; trying again", map[string]any{"attempt": attempt + 1, "error": err.Error()})
		if werr := sleep(ctx, c.pollWait.delay(attempt)); werr != nil {
			return fmt.Errorf("stopped waiting for the object to be free: %w", errors.Join(werr, err))
		}
	}
}
