package store

import (
	"context"
	"fmt"
	"time"
)

// Operation statuses. Queued covers both "not started yet" and "waiting for
// a retry"; succeeded and failed are final.
const (
	OperationQueued    = "queued"
	OperationRunning   = "running"
	OperationSucceeded = "succeeded"
	OperationFailed    = "failed"
)

// OperationStatuses lists every status, for validating filters.
var OperationStatuses = []string{OperationQueued, OperationRunning, OperationSucceeded, OperationFailed}

// Operation is one durable piece of long work and its progress. Params never
// holds secrets: those stay sealed on the target row.
type Operation struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	Kind           string
	TargetType     string
	TargetID       string
	Status         string
	// Step is the 0-based index of the step running, or of the last step
	// once the operation has finished; every step before it is done.
	Step      int
	StepCount int
	StepName  string
	Log       string
	Error     string
	Attempts  int
	Params    string
	// JobID is the River job working the operation.
	JobID      *int64
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time
}

// Done reports whether the operation has reached a final status.
func (o *Operation) Done() bool {
	return o.Status == OperationSucceeded || o.Status == OperationFailed
}

// OperationFilter narrows a list of operations; empty fields match all.
type OperationFilter struct {
	TargetType string
	TargetID   string
	Status     string
}

// CreateOperation inserts an operation.
func (s *Store) CreateOperation(ctx context.Context, op *Operation) error {
	if err := translate(s.conn(ctx).Create(op).Error); err != nil {
		return fmt.Errorf("create operation: %w", err)
	}
	return nil
}

// Operation returns one operation of the organization.
func (s *Store) Operation(ctx context.Context, orgID, id string) (*Operation, error) {
	var op Operation
	if err := translate(s.conn(ctx).Where("organization_id = ? AND id = ?", orgID, id).Take(&op).Error); err != nil {
		return nil, fmt.Errorf("get operation: %w", err)
	}
	return &op, nil
}

// ListOperations returns the organization's operations, newest first.
func (s *Store) ListOperations(ctx context.Context, orgID string, f OperationFilter, p Page) ([]Operation, int64, error) {
	q := s.conn(ctx).Model(&Operation{}).Where("organization_id = ?", orgID)
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list operations: %w", err)
	}
	var out []Operation
	if err := q.Order("created_at DESC, id DESC").Limit(p.Limit).Offset(p.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list operations: %w", err)
	}
	return out, total, nil
}

// UpdateOperation saves the progress of a run: status, step, log, error,
// attempts and timestamps. Kind, target and params never change.
func (s *Store) UpdateOperation(ctx context.Context, op *Operation) error {
	op.UpdatedAt = s.db.NowFunc()
	res := s.conn(ctx).Model(&Operation{}).
		Where("organization_id = ? AND id = ?", op.OrganizationID, op.ID).
		Updates(map[string]any{
			"status": op.Status, "step": op.Step, "step_count": op.StepCount, "step_name": op.StepName,
			"log": op.Log, "error": op.Error, "attempts": op.Attempts,
			"started_at": op.StartedAt, "finished_at": op.FinishedAt, "updated_at": op.UpdatedAt,
		})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("update operation: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update operation: %w", ErrNotFound)
	}
	return nil
}

// StaleOperations returns unfinished operations of every organization not
// updated since before, oldest first. It is the one operations query that is
// not tenant-scoped: the job system's sweep for operations whose job ended
// without finishing them.
func (s *Store) StaleOperations(ctx context.Context, before time.Time, limit int) ([]Operation, error) {
	var out []Operation
	err := s.conn(ctx).
		Where("status IN ? AND updated_at < ?", []string{OperationQueued, OperationRunning}, before.UTC()).
		Order("updated_at, id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list stale operations: %w", err)
	}
	return out, nil
}
