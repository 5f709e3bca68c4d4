// Package identity registers users, signs them in (with an optional TOTP
// second factor), issues and revokes API tokens, and authenticates requests.
package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Service implements sign-up, sign-in, tokens and second factors.
type Service struct {
	store    *store.Store
	hasher   *auth.Hasher
	box      *secrets.Box
	limits   config.Limits
	loginTTL time.Duration
	log      *slog.Logger
	now      func() time.Time

	touchMu sync.Mutex
	touched map[string]time.Time

	// credentials caches what Authenticate reads; nil when disabled.
	credentials *credentialCache
}

// New returns the identity service.
func New(st *store.Store, hasher *auth.Hasher, box *secrets.Box, limits config.Limits, loginTTL time.Duration, log *slog.Logger) *Service {
	return &Service{
		store: st, hasher: hasher, box: box, limits: limits, loginTTL: loginTTL, log: log,
		now: func() time.Time { return time.Now().UTC() }, touched: map[string]time.Time{},
	}
}

// CacheCredentials lets Authenticate reuse what it read about a token for
// up to ttl (0 turns the cache off). Changes made through this process take
// effect at once; changes made by another process sharing the database
// take effect within ttl.
func (s *Service) CacheCredentials(ttl time.Duration) {
	s.credentials = newCredentialCache(ttl)
}

// RegisterInput is a new account with its first organization.
type RegisterInput struct {
	Name             string
	Email            string
	Password         string
	OrganizationName string
}

// Session is what sign-up and sign-in return: the caller and a new token
// whose plaintext is shown this once.
type Session struct {
	User         *store.User
	Organization *store.Organization
	Membership   *store.Membership
	Token        *store.APIToken
	Plaintext    string
}

// Register creates a user, an organization owned by them and a token.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*Session, error) {
	f := problem.Fields{}
	in.Name = validate.Name(f, "name", in.Name, 100)
	in.Email = validate.Email(f, "email", in.Email)
	validate.Password(f, "password", in.Password)
	in.OrganizationName = validate.Name(f, "organization_name", in.OrganizationName, 100)
	if err := f.Err(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	out := &Session{}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		out.User = &store.User{ID: store.NewID(), Name: in.Name, Email: in.Email, PasswordHash: hash}
		if err := tx.CreateUser(ctx, out.User); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return problem.Conflict("email_taken", "an account with this e-mail already exists")
			}
			return err
		}
		out.Organization = &store.Organization{
			ID: store.NewID(), Name: in.OrganizationName,
			MaxSites: s.limits.Sites, MaxVPS: s.limits.VPS, MaxBackups: s.limits.Backups, MaxStorageBytes: s.limits.StorageBytes,
		}
		if err := tx.CreateOrganization(ctx, out.Organization); err != nil {
			return err
		}
		out.Membership = &store.Membership{
			ID: store.NewID(), OrganizationID: out.Organization.ID, UserID: &out.User.ID,
			Email: in.Email, Role: string(auth.RoleOwner), Status: "active",
		}
		if err := tx.CreateMembership(ctx, out.Membership); err != nil {
			return err
		}
		out.Token, out.Plaintext, err = s.issue(ctx, tx, out.Organization.ID, out.User.ID, "registration", auth.Abilities, s.expiry())
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: out.Organization.ID, ActorUserID: out.User.ID, TokenID: out.Token.ID, Action: "auth.register",
			TargetType: "user", TargetID: out.User.ID,
			Changes: map[string]any{"email": in.Email, "organization_name": in.OrganizationName},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return out, nil
}

// LoginInput is an attempt to sign in.
type LoginInput struct {
	Email          string
	Password       string
	TOTPCode       string
	RecoveryCode   string
	OrganizationID string
}

var errBadCredentials = problem.Unauthorized("invalid_credentials", "e-mail or password is wrong")

// Login checks credentials (and the second factor when enabled) and issues a token.
func (s *Service) Login(ctx context.Context, in LoginInput) (*Session, error) {
	user, err := s.store.UserByEmail(ctx, in.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := ""
	if user != nil {
		hash = user.PasswordHash
	}
	if err := s.hasher.Verify(ctx, hash, in.Password); err != nil || user == nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if user.TOTPEnabled {
		if err := s.checkSecondFactor(ctx, user, in.TOTPCode, in.RecoveryCode); err != nil {
			return nil, err
		}
	}
	var m *store.Membership
	if in.OrganizationID != "" {
		m, err = s.store.MembershipOfUser(ctx, in.OrganizationID, user.ID)
	} else {
		m, err = s.store.FirstMembershipOfUser(ctx, user.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.Forbidden("no_membership", "the account is not a member of that organization")
	}
	if err != nil {
		return nil, err
	}
	org, err := s.store.Organization(ctx, m.OrganizationID)
	if err != nil {
		return nil, err
	}
	out := &Session{User: user, Organization: org, Membership: m}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		out.Token, out.Plaintext, err = s.issue(ctx, tx, org.ID, user.ID, "login", auth.Abilities, s.expiry())
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: org.ID, ActorUserID: user.ID, TokenID: out.Token.ID, Action: "auth.login", TargetType: "token", TargetID: out.Token.ID,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return out, nil
}

func (s *Service) checkSecondFactor(ctx context.Context, user *store.User, code, recovery string) error {
	switch {
	case code != "":
		secret, err := s.openTOTP(user)
		if err != nil {
			return err
		}
		if !auth.ValidTOTP(code, secret, s.now()) {
			return problem.Unauthorized("invalid_totp_code", "the two-factor code is wrong or expired")
		}
		return nil
	case recovery != "":
		if err := s.store.UseRecoveryCode(ctx, user.ID, auth.HashSecret(recovery), s.now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return problem.Unauthorized("invalid_recovery_code", "the recovery code is wrong or already used")
			}
			return err
		}
		return nil
	default:
		return problem.Unauthorized("totp_required", "two-factor authentication is on: send totp_code or recovery_code")
	}
}

func (s *Service) openTOTP(user *store.User) (string, error) {
	if user.TOTPSecret == nil {
		return "", problem.Conflict("totp_not_enrolled", "two-factor authentication has not been enrolled")
	}
	secret, err := s.box.Open(*user.TOTPSecret, totpContext(user.ID))
	if err != nil {
		return "", fmt.Errorf("open totp secret: %w", err)
	}
	return string(secret), nil
}

func (s *Service) expiry() *time.Time {
	if s.loginTTL <= 0 {
		return nil
	}
	t := s.now().Add(s.loginTTL)
	return &t
}

func (s *Service) issue(ctx context.Context, tx *store.Store, orgID, userID, name string, abilities auth.AbilitySet, expires *time.Time) (*store.APIToken, string, error) {
	plaintext := auth.NewSecret(auth.TokenPrefix)
	t := &store.APIToken{
		ID: store.NewID(), OrganizationID: orgID, UserID: userID, Name: name,
		TokenPrefix: auth.DisplayPrefix(plaintext), TokenHash: auth.HashSecret(plaintext),
		Abilities: abilities.String(), ExpiresAt: expires,
	}
	if err := tx.CreateToken(ctx, t); err != nil {
		return nil, "", err
	}
	return t, plaintext, nil
}

var errBadToken = problem.Unauthorized("invalid_token", "the bearer token is missing, malformed, expired or revoked")

// Authenticate resolves a bearer token to its principal. The token, the
// holder's membership and the organization's second-factor rule come in
// one query, which the credential cache (CacheCredentials) spares most
// requests.
func (s *Service) Authenticate(ctx context.Context, bearer string) (auth.Principal, error) {
	if len(bearer) < len(auth.TokenPrefix)+20 || len(bearer) > 200 {
		return auth.Principal{}, errBadToken
	}
	hash := auth.HashSecret(bearer)
	now := s.now()
	c, err := s.credential(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, errBadToken
	}
	if err != nil {
		return auth.Principal{}, err
	}
	if !auth.SecretMatches(bearer, c.TokenHash) || c.RevokedAt != nil || (c.ExpiresAt != nil && !now.Before(*c.ExpiresAt)) {
		return auth.Principal{}, errBadToken
	}
	s.touch(ctx, c.TokenID, now)
	return auth.Principal{
		UserID: c.UserID, OrgID: c.OrganizationID, TokenID: c.TokenID,
		Role: auth.Role(c.Role), Abilities: auth.ParseAbilities(c.Abilities),
		SecondFactorMissing: c.Require2FA && !c.TOTPEnabled,
	}, nil
}

// touch keeps last_used_at to the minute without a write per request.
func (s *Service) touch(ctx context.Context, tokenID string, now time.Time) {
	s.touchMu.Lock()
	last, seen := s.touched[tokenID]
	if seen && now.Sub(last) < time.Minute {
		s.touchMu.Unlock()
		return
	}
	s.touched[tokenID] = now
	if len(s.touched) > 100_000 {
		clear(s.touched)
	}
	s.touchMu.Unlock()
	if err := s.store.TouchToken(ctx, tokenID, now); err != nil {
		s.log.WarnContext(ctx, "record token use", slog.String("token_id", tokenID), slog.Any("error", err))
	}
}

// TwoFactorRequired reports whether the principal's organization demands a
// second factor the user has not enabled, as Authenticate found it.
func (s *Service) TwoFactorRequired(_ context.Context, p auth.Principal) (bool, error) {
	return (p.Role == auth.RoleOwner || p.Role == auth.RoleAdmin) && p.SecondFactorMissing, nil
}
