package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

const (
	// totpIssuer is the name authenticator apps show beside the account.
	totpIssuer = "CHOM"
	// recoveryCodeCount is how many one-time codes a user holds at once.
	recoveryCodeCount = 10
)

// TOTPEnrollment is a new second-factor secret that is not yet in force:
// it protects nothing until ConfirmTOTP proves the user's app holds it.
type TOTPEnrollment struct {
	Secret string
	URI    string
}

var (
	errTOTPEnabled    = problem.Conflict("totp_already_enabled", "two-factor authentication is already on; disable it before enrolling a new secret")
	errTOTPNotEnabled = problem.Conflict("totp_not_enabled", "two-factor authentication is not on")
)

func totpContext(userID string) string { return "user/" + userID + "/totp" }

// EnrollTOTP starts enrolment: it stores a new sealed secret, replacing any
// unconfirmed one. No password is asked: nothing is enforced until a code
// from the secret is confirmed, and a user whose second factor is already
// on must disable it (password and code) before enrolling again, so a
// stolen token cannot swap the secret.
func (s *Service) EnrollTOTP(ctx context.Context, p auth.Principal) (TOTPEnrollment, error) {
	user, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("enroll totp: %w", err)
	}
	if user.TOTPEnabled {
		return TOTPEnrollment{}, errTOTPEnabled
	}
	key, err := auth.NewTOTP(totpIssuer, user.Email)
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("enroll totp: %w", err)
	}
	sealed := s.box.Seal([]byte(key.Secret), totpContext(user.ID))
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetUserTOTP(ctx, user.ID, &sealed, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "user.2fa.enroll", TargetType: "user", TargetID: user.ID})
	})
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("enroll totp: %w", err)
	}
	return TOTPEnrollment{Secret: key.Secret, URI: key.URI}, nil
}

// ConfirmTOTP turns two-factor authentication on once code shows the
// user's app holds the enrolled secret, and returns the recovery codes —
// shown this once, stored only as hashes.
func (s *Service) ConfirmTOTP(ctx context.Context, p auth.Principal, code string) ([]string, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, problem.Invalid("code", "is required")
	}
	user, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	if user.TOTPEnabled {
		return nil, errTOTPEnabled
	}
	secret, err := s.openTOTP(user)
	if err != nil {
		return nil, err
	}
	if !auth.ValidTOTP(code, secret, s.now()) {
		return nil, problem.Invalid("code", "is wrong or expired")
	}
	codes := auth.NewRecoveryCodes(recoveryCodeCount)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetUserTOTP(ctx, user.ID, user.TOTPSecret, true); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, user.ID, hashAll(codes)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "user.2fa.enable", TargetType: "user", TargetID: user.ID,
			Changes: map[string]any{"recovery_count": len(codes)}})
	})
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	return codes, nil
}

// DisableTOTP turns two-factor authentication off. It takes the password
// and a current code (or an unused recovery code), so a stolen token alone
// cannot weaken the account. It is refused while the caller's organization
// requires a second factor of their role, which would lock them out.
func (s *Service) DisableTOTP(ctx context.Context, p auth.Principal, password, code string) error {
	f := problem.Fields{}
	if password == "" {
		f.Add("password", "is required")
	}
	if strings.TrimSpace(code) == "" {
		f.Add("code", "is required")
	}
	if err := f.Err(); err != nil {
		return err
	}
	user, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	if !user.TOTPEnabled {
		return errTOTPNotEnabled
	}
	if err := s.hasher.Verify(ctx, user.PasswordHash, password); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return problem.Invalid("password", "is wrong")
	}
	org, err := s.store.Organization(ctx, p.OrgID)
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	if org.Require2FA && (p.Role == auth.RoleOwner || p.Role == auth.RoleAdmin) {
		return problem.Conflict("organization_requires_2fa",
			"the organization requires two-factor authentication of owners and admins; it cannot be turned off")
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		// The code is checked inside the transaction so a recovery code is
		// only spent when the change is made.
		if err := s.checkCode(ctx, tx, user, code); err != nil {
			return err
		}
		if err := tx.SetUserTOTP(ctx, user.ID, nil, false); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, user.ID, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "user.2fa.disable", TargetType: "user", TargetID: user.ID})
	})
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	return nil
}

// RegenerateRecoveryCodes replaces every recovery code, used or not, with
// new ones shown this once. It takes a current code (or a recovery code).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p auth.Principal, code string) ([]string, error) {
	if strings.TrimSpace(code) == "" {
		return nil, problem.Invalid("code", "is required")
	}
	user, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	if !user.TOTPEnabled {
		return nil, errTOTPNotEnabled
	}
	codes := auth.NewRecoveryCodes(recoveryCodeCount)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := s.checkCode(ctx, tx, user, code); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, user.ID, hashAll(codes)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "user.2fa.recovery_codes", TargetType: "user", TargetID: user.ID,
			Changes: map[string]any{"recovery_count": len(codes)}})
	})
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	return codes, nil
}

// checkCode accepts a current TOTP code or spends an unused recovery code.
// The two cannot be confused: TOTP codes are six digits, recovery codes
// are eleven characters with a dash.
func (s *Service) checkCode(ctx context.Context, tx *store.Store, user *store.User, code string) error {
	code = strings.TrimSpace(code)
	if isTOTPCode(code) {
		secret, err := s.openTOTP(user)
		if err != nil {
			return err
		}
		if !auth.ValidTOTP(code, secret, s.now()) {
			return problem.Invalid("code", "is wrong or expired")
		}
		return nil
	}
	err := tx.UseRecoveryCode(ctx, user.ID, auth.HashSecret(strings.ToLower(code)), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return problem.Invalid("code", "is neither a current two-factor code nor an unused recovery code")
	}
	return err
}

func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func hashAll(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = auth.HashSecret(c)
	}
	return out
}
