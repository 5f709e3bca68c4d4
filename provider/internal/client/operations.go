package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

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
