package store

import (
	"context"
	"fmt"
	"time"
)

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorUserID string
	Action      string
	TargetType  string
	TargetID    string
	Since       *time.Time
	Until       *time.Time
}

// CreateAuditLog appends an entry.
func (s *Store) CreateAuditLog(ctx context.Context, e *AuditLog) error {
	if err := s.conn(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// ListAuditLogs returns the organization's entries, newest first.
func (s *Store) ListAuditLogs(ctx context.Context, orgID string, f AuditFilter, p Page) ([]AuditLog, int64, error) {
	q := s.conn(ctx).Model(&AuditLog{}).Where("organization_id = ?", orgID)
	if f.ActorUserID != "" {
		q = q.Where("actor_user_id = ?", f.ActorUserID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.Since != nil {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list audit logs: %w", err)
	}
	var out []AuditLog
	if err := q.Order("created_at DESC, id DESC").Limit(p.Limit).Offset(p.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list audit logs: %w", err)
	}
	return out, total, nil
}
