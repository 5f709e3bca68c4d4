package store

import (
	"context"
	"fmt"
	"time"
)

// ACMEAccount is the platform's account with one ACME CA. It belongs to no
// tenant: every site's certificate is ordered through it.
type ACMEAccount struct {
	DirectoryURL string `gorm:"primaryKey"`
	// KeySealed is sealed with ACMEAccountKeyContext(DirectoryURL).
	KeySealed string
	CreatedAt time.Time
}

// ACMEAccountKeyContext binds a sealed account key to its CA.
func ACMEAccountKeyContext(directoryURL string) string {
	return "acme/" + directoryURL + "/account_key"
}

// ACMEAccount returns the account for the CA at directoryURL.
func (s *Store) ACMEAccount(ctx context.Context, directoryURL string) (*ACMEAccount, error) {
	var a ACMEAccount
	if err := translate(s.conn(ctx).Where("directory_url = ?", directoryURL).Take(&a).Error); err != nil {
		return nil, fmt.Errorf("get acme account: %w", err)
	}
	return &a, nil
}

// CreateACMEAccount stores a new account; one for the same CA already
// stored (by another server starting at the same time) is ErrConflict.
func (s *Store) CreateACMEAccount(ctx context.Context, a *ACMEAccount) error {
	if err := translate(s.conn(ctx).Create(a).Error); err != nil {
		return fmt.Errorf("create acme account: %w", err)
	}
	return nil
}
