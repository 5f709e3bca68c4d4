package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Operation returns one operation of the organization; another
// organization's id is not found.
func (q *Queue) Operation(ctx context.Context, orgID, id string) (*store.Operation, error) {
	op, err := q.st.Operation(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("operation")
	}
	return op, err
}

// ListOperations returns the organization's operations, newest first.
func (q *Queue) ListOperations(ctx context.Context, orgID string, f store.OperationFilter, p store.Page) ([]store.Operation, int64, error) {
	fields := problem.Fields{}
	if f.Status != "" {
		validate.OneOf(fields, "status", f.Status, store.OperationStatuses)
	}
	if err := fields.Err(); err != nil {
		return nil, 0, err
	}
	ops, total, err := q.st.ListOperations(ctx, orgID, f, p)
	if err != nil {
		return nil, 0, fmt.Errorf("list operations: %w", err)
	}
	return ops, total, nil
}
