package team

import (
	"context"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// errInvitationNotFound covers unknown, used and expired tokens alike:
// the answer does not tell a guesser which tokens once existed.
var errInvitationNotFound = &problem.Error{
	Kind: problem.KindNotFound, Code: "invitation_not_found",
	Message: "the invitation does not exist, was already accepted or has expired",
}

// AcceptInput accepts an invitation.
type AcceptInput struct {
	Token string
	// Name and Password create the account when the invited e-mail has
	// none; for an existing account Password must be its password and
	// Name is ignored.
	Name     string
	Password string
	// TOTPCode or RecoveryCode is required when the existing account has
	// two-factor authentication on, as at sign-in.
	TOTPCode     string
	RecoveryCode string
}

// Accept turns a pending invitation into an active membership — creating
// the account when the e-mail has none — and signs the account in to the
// inviting organization.
func (s *Service) Accept(ctx context.Context, in AcceptInput) (*identity.Session, error) {
	if in.Token == "" {
		return nil, problem.Invalid("token", "is required")
	}
	m, err := s.store.MembershipByInvitation(ctx, auth.HashSecret(in.Token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvitationNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	if m.InvitationExpiresAt == nil || !s.now().Before(*m.InvitationExpiresAt) {
		return nil, errInvitationNotFound
	}
	user, err := s.store.UserByEmail(ctx, m.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	newAccount := user == nil
	if newAccount {
		if user, err = s.newUser(ctx, m.Email, in.Name, in.Password); err != nil {
			return nil, err
		}
	} else if err := s.identity.VerifyAccount(ctx, user, in.Password, in.TOTPCode, in.RecoveryCode); err != nil {
		return nil, err
	}
	org, err := s.store.Organization(ctx, m.OrganizationID)
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	var sess *identity.Session
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if newAccount {
			if err := tx.CreateUser(ctx, user); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return problem.Conflict("email_taken", "an account with this e-mail was just created; accept again with its password")
				}
				return err
			}
		}
		if err := tx.ActivateMembership(ctx, m.OrganizationID, m.ID, user.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errInvitationNotFound
			}
			return err
		}
		m.UserID, m.Status, m.InvitationTokenHash, m.InvitationExpiresAt = &user.ID, StatusActive, nil, nil
		var err error
		if sess, err = s.identity.IssueSession(ctx, tx, user, org, m, "invitation"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: org.ID, ActorUserID: user.ID, TokenID: sess.Token.ID, Action: "invitation.accept", TargetType: "member", TargetID: m.ID,
			Changes: map[string]any{"email": m.Email, "role": m.Role, "new_account": newAccount},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	return sess, nil
}

// newUser validates and hashes a new account; it is inserted with the
// membership so a failed acceptance leaves no account behind.
func (s *Service) newUser(ctx context.Context, email, name, password string) (*store.User, error) {
	f := problem.Fields{}
	name = validate.Name(f, "name", name, 100)
	validate.Password(f, "password", password)
	if err := f.Err(); err != nil {
		return nil, err
	}
	hash, err := s.identity.HashPassword(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	return &store.User{ID: store.NewID(), Name: name, Email: email, PasswordHash: hash}, nil
}
