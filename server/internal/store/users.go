package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CreateUser inserts a user; a taken e-mail is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(u.Email)
	if err := translate(s.conn(ctx).Create(u).Error); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// UserByEmail finds a user by e-mail (case-insensitive).
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := translate(s.conn(ctx).Where("email = ?", strings.ToLower(email)).Take(&u).Error); err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return &u, nil
}

// User finds a user by id. Users are global; callers reach them through a
// membership of the caller's organization.
func (s *Store) User(ctx context.Context, id string) (*User, error) {
	var u User
	if err := translate(s.conn(ctx).Where("id = ?", id).Take(&u).Error); err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return &u, nil
}

// SetUserTOTP stores the sealed TOTP secret and whether 2FA is on.
func (s *Store) SetUserTOTP(ctx context.Context, userID string, sealedSecret *string, enabled bool) error {
	res := s.conn(ctx).Model(&User{}).Where("id = ?", userID).Updates(map[string]any{
		"totp_secret": sealedSecret, "totp_enabled": enabled, "updated_at": s.db.NowFunc(),
	})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update user: %w", ErrNotFound)
	}
	return nil
}

// ReplaceRecoveryCodes swaps the user's recovery codes for new hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if err := s.conn(ctx).Where("user_id = ?", userID).Delete(&RecoveryCode{}).Error; err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	for _, h := range hashes {
		rc := RecoveryCode{ID: NewID(), UserID: userID, CodeHash: h}
		if err := s.conn(ctx).Create(&rc).Error; err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
	}
	return nil
}

// UseRecoveryCode marks an unused code with this hash as used; ErrNotFound
// when there is none.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error {
	res := s.conn(ctx).Model(&RecoveryCode{}).
		Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).
		Update("used_at", now)
	if res.Error != nil {
		return fmt.Errorf("use recovery code: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("use recovery code: %w", ErrNotFound)
	}
	return nil
}

// CountRecoveryCodes returns how many unused recovery codes the user has.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int64, error) {
	var n int64
	if err := s.conn(ctx).Model(&RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}
