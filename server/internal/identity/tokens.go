package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// TokenInput describes a token to create.
type TokenInput struct {
	Name      string
	Abilities []string
	ExpiresAt *time.Time
}

// CreateToken issues a token for the caller. A token never carries more
// than the caller's role grants, nor more abilities than the caller's token.
func (s *Service) CreateToken(ctx context.Context, p auth.Principal, in TokenInput) (*store.APIToken, string, error) {
	f := problem.Fields{}
	in.Name = validate.Name(f, "name", in.Name, 100)
	var abilities auth.AbilitySet
	if len(in.Abilities) == 0 {
		f.Add("abilities", "is required: any of read, write, admin")
	}
	for _, a := range in.Abilities {
		ab := auth.Ability(a)
		if !ab.Valid() {
			f.Add("abilities", "must contain only read, write or admin")
			continue
		}
		if !p.Abilities.Has(ab) {
			f.Add("abilities", fmt.Sprintf("cannot grant %q: the calling token does not hold it", a))
		}
		abilities = append(abilities, ab)
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		f.Add("expires_at", "must be in the future")
	}
	if err := f.Err(); err != nil {
		return nil, "", err
	}
	var t *store.APIToken
	var plaintext string
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		var exp *time.Time
		if in.ExpiresAt != nil {
			e := in.ExpiresAt.UTC()
			exp = &e
		}
		t, plaintext, err = s.issue(ctx, tx, p.OrgID, p.UserID, in.Name, abilities, exp)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: "token.create", TargetType: "token", TargetID: t.ID,
			Changes: map[string]any{"name": t.Name, "abilities": t.Abilities, "expires_at": t.ExpiresAt},
		})
	})
	if err != nil {
		return nil, "", fmt.Errorf("create token: %w", err)
	}
	return t, plaintext, nil
}

// ListTokens lists the organization's live tokens; a caller who may not
// manage tokens sees only their own.
func (s *Service) ListTokens(ctx context.Context, p auth.Principal, page store.Page) ([]store.APIToken, int64, error) {
	userID := p.UserID
	if p.Can(auth.ManageTokens) {
		userID = ""
	}
	return s.store.ListTokens(ctx, p.OrgID, userID, page)
}

// RevokeToken revokes one of the caller's tokens, or any token of the
// organization for those who manage tokens.
func (s *Service) RevokeToken(ctx context.Context, p auth.Principal, id string) error {
	t, err := s.store.Token(ctx, p.OrgID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (t.RevokedAt != nil || (t.UserID != p.UserID && !p.Can(auth.ManageTokens)))) {
		return problem.NotFound("token")
	}
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeToken(ctx, p.OrgID, id, s.now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return problem.NotFound("token")
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "token.revoke", TargetType: "token", TargetID: id})
	})
}
