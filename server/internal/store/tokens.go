package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

func forUpdate() clause.Expression { return clause.Locking{Strength: "UPDATE"} }

// CreateToken inserts an API token (hash only).
func (s *Store) CreateToken(ctx context.Context, t *APIToken) error {
	if err := translate(s.conn(ctx).Create(t).Error); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// Token returns one token of the organization.
func (s *Store) Token(ctx context.Context, orgID, id string) (*APIToken, error) {
	var t APIToken
	if err := translate(s.conn(ctx).Where("organization_id = ? AND id = ?", orgID, id).Take(&t).Error); err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	return &t, nil
}

// ListTokens lists the organization's tokens that are not revoked; when
// userID is set, only that user's.
func (s *Store) ListTokens(ctx context.Context, orgID, userID string, p Page) ([]APIToken, int64, error) {
	q := s.conn(ctx).Model(&APIToken{}).Where("organization_id = ? AND revoked_at IS NULL", orgID)
	if userID != "" {
		q = q.Where("user_id = ?", userID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list tokens: %w", err)
	}
	var out []APIToken
	if err := q.Order("created_at, id").Limit(p.Limit).Offset(p.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list tokens: %w", err)
	}
	return out, total, nil
}

// RevokeToken revokes a token of the organization.
func (s *Store) RevokeToken(ctx context.Context, orgID, id string, now time.Time) error {
	res := s.conn(ctx).Model(&APIToken{}).
		Where("organization_id = ? AND id = ? AND revoked_at IS NULL", orgID, id).
		Updates(map[string]any{"revoked_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("revoke token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke token: %w", ErrNotFound)
	}
	return nil
}

// TouchToken records when a token was last used. Callers throttle it so a
// busy token does not write on every request.
func (s *Store) TouchToken(ctx context.Context, id string, now time.Time) error {
	if err := s.conn(ctx).Set(authUnchanged, true).Model(&APIToken{}).Where("id = ?", id).Update("last_used_at", now).Error; err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}
