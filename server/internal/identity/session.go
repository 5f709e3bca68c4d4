package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/store"
)

// HashPassword hashes a new password with the service's shared hasher, so
// every flow that creates an account queues behind the same CPU budget.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	return s.hasher.Hash(ctx, password)
}

// VerifyAccount checks an existing account's password and, when two-factor
// authentication is on, its second factor — the same checks sign-in makes,
// for flows that end in a session without going through Login.
func (s *Service) VerifyAccount(ctx context.Context, user *store.User, password, totpCode, recoveryCode string) error {
	if err := s.hasher.Verify(ctx, user.PasswordHash, password); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return errBadCredentials
	}
	if user.TOTPEnabled {
		return s.checkSecondFactor(ctx, user, totpCode, recoveryCode)
	}
	return nil
}

// IssueSession issues a sign-in token for user in the membership's
// organization inside tx, with the lifetime Login gives its tokens.
func (s *Service) IssueSession(ctx context.Context, tx *store.Store, user *store.User, org *store.Organization, m *store.Membership, tokenName string) (*Session, error) {
	t, plaintext, err := s.issue(ctx, tx, org.ID, user.ID, tokenName, auth.Abilities, s.expiry())
	if err != nil {
		return nil, fmt.Errorf("issue session: %w", err)
	}
	return &Session{User: user, Organization: org, Membership: m, Token: t, Plaintext: plaintext}, nil
}
