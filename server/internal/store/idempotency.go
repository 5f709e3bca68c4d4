package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ClaimIdempotencyKey inserts an in-progress record. When the key exists it
// returns the existing record and ErrConflict.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k *IdempotencyKey) (*IdempotencyKey, error) {
	err := translate(s.conn(ctx).Create(k).Error)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	var existing IdempotencyKey
	if err := translate(s.conn(ctx).Where("scope = ? AND idem_key = ?", k.Scope, k.IdemKey).Take(&existing).Error); err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if existing.ExpiresAt.Before(time.Now()) {
		// An expired record no longer protects anything: take it over.
		res := s.conn(ctx).Where("id = ? AND expires_at = ?", existing.ID, existing.ExpiresAt).Delete(&IdempotencyKey{})
		if res.Error == nil && res.RowsAffected == 1 {
			return s.ClaimIdempotencyKey(ctx, k)
		}
	}
	return &existing, ErrConflict
}

// CompleteIdempotencyKey stores the response for replays.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, id string, status int, sealedBody string) error {
	err := s.conn(ctx).Model(&IdempotencyKey{}).Where("id = ?", id).Updates(map[string]any{
		"status": "done", "response_status": status, "response_body": sealedBody,
	}).Error
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a claim whose request failed on the server,
// so the client may retry with the same key.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, id string) error {
	if err := s.conn(ctx).Where("id = ?", id).Delete(&IdempotencyKey{}).Error; err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotencyKeys deletes records past their expiry.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.conn(ctx).Where("expires_at < ?", now).Delete(&IdempotencyKey{})
	if res.Error != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}
