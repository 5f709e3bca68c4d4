// Package team manages who belongs to an organization and the
// organization's own settings: members and their roles, invitations by
// e-mail, and the rule that an organization always keeps an owner.
package team

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Membership states.
const (
	StatusPending = "pending"
	StatusActive  = "active"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// invitationPrefix marks invitation tokens so they are not mistaken for
// API tokens (and cannot authenticate as one).
const invitationPrefix = "chominv_"

// Service applies the team rules.
type Service struct {
	store    *store.Store
	identity *identity.Service
	now      func() time.Time
}

// New returns the team service; ident creates and signs in the accounts
// that accept invitations.
func New(st *store.Store, ident *identity.Service) *Service {
	return &Service{store: st, identity: ident, now: func() time.Time { return time.Now().UTC() }}
}

var (
	errMemberNotFound = problem.NotFound("member")
	errLastOwner      = problem.Conflict("last_owner", "the organization must keep at least one active owner; make another member owner first")
)

// List returns the organization's members, oldest first.
func (s *Service) List(ctx context.Context, p auth.Principal, f store.MembershipFilter, page store.Page) ([]store.Membership, int64, error) {
	fields := problem.Fields{}
	if f.Role != "" {
		validate.OneOf(fields, "role", auth.Role(f.Role), auth.Roles)
	}
	if f.Status != "" {
		validate.OneOf(fields, "status", f.Status, []string{StatusPending, StatusActive})
	}
	if err := fields.Err(); err != nil {
		return nil, 0, err
	}
	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	ms, total, err := s.store.ListMemberships(ctx, p.OrgID, f, page)
	if err != nil {
		return nil, 0, fmt.Errorf("list members: %w", err)
	}
	return ms, total, nil
}

// Get returns one member.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (*store.Membership, error) {
	m, err := s.store.Membership(ctx, p.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errMemberNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get member: %w", err)
	}
	return m, nil
}

// AddInput is a person to add to the organization.
type AddInput struct {
	Email string
	// Role defaults to member.
	Role string
}

// Add makes the owner of an existing account a member at once, or invites
// an e-mail that has no account yet. For an invitation it also returns
// the token that accepts it: shown this once, stored only as a hash.
func (s *Service) Add(ctx context.Context, p auth.Principal, in AddInput) (*store.Membership, string, error) {
	f := problem.Fields{}
	email := validate.Email(f, "email", in.Email)
	role := auth.Role(strings.TrimSpace(in.Role))
	if role == "" {
		role = auth.RoleMember
	}
	validate.OneOf(f, "role", role, auth.Roles)
	if err := f.Err(); err != nil {
		return nil, "", err
	}
	if !p.Role.Outranks(role) {
		return nil, "", problem.Forbidden("insufficient_role", "only an owner can grant the owner role")
	}
	user, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", fmt.Errorf("add member: %w", err)
	}
	m := &store.Membership{
		ID: store.NewID(), OrganizationID: p.OrgID, Email: email, Role: string(role), InvitedBy: &p.UserID,
	}
	var token string
	if user != nil {
		m.UserID, m.Status, m.User = &user.ID, StatusActive, user
	} else {
		token = auth.NewSecret(invitationPrefix)
		hash := auth.HashSecret(token)
		expires := s.now().Add(InvitationTTL).Truncate(time.Microsecond)
		m.Status, m.InvitationTokenHash, m.InvitationExpiresAt = StatusPending, &hash, &expires
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateMembership(ctx, m); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return problem.Conflict("member_exists", "%s is already a member or invited", email)
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: "member.create", TargetType: "member", TargetID: m.ID,
			Changes: map[string]any{"email": m.Email, "role": m.Role, "status": m.Status},
		})
	})
	if err != nil {
		return nil, "", fmt.Errorf("add member: %w", err)
	}
	return m, token, nil
}

// ChangeRole sets a member's role. Only an owner grants, changes or takes
// away the owner role, and the last active owner cannot be demoted.
func (s *Service) ChangeRole(ctx context.Context, p auth.Principal, id, role string) (*store.Membership, error) {
	newRole := auth.Role(strings.TrimSpace(role))
	var out *store.Membership
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		// The member is looked up first: another tenant's id is 404
		// whatever the body holds.
		m, err := s.target(ctx, tx, p, id)
		if err != nil {
			return err
		}
		f := problem.Fields{}
		if newRole == "" {
			f.Add("role", "is required")
		} else {
			validate.OneOf(f, "role", newRole, auth.Roles)
		}
		if err := f.Err(); err != nil {
			return err
		}
		if !p.Role.Outranks(newRole) {
			return problem.Forbidden("insufficient_role", "only an owner can grant the owner role")
		}
		if auth.Role(m.Role) == newRole {
			out = m
			return nil
		}
		if err := s.keepOwner(ctx, tx, p.OrgID, m); err != nil {
			return err
		}
		if err := tx.UpdateMembershipRole(ctx, p.OrgID, m.ID, string(newRole)); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			Action: "member.update", TargetType: "member", TargetID: m.ID,
			Changes: map[string]any{"role": map[string]any{"from": m.Role, "to": string(newRole)}},
		}); err != nil {
			return err
		}
		out, err = tx.Membership(ctx, p.OrgID, m.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("change member role: %w", err)
	}
	return out, nil
}

// Remove takes a member (or an invitation) out of the organization and
// revokes every token the member holds in it. The last active owner
// cannot be removed, not even by themselves.
func (s *Service) Remove(ctx context.Context, p auth.Principal, id string) error {
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		m, err := s.target(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := s.keepOwner(ctx, tx, p.OrgID, m); err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, p.OrgID, m.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: "member.delete", TargetType: "member", TargetID: m.ID,
			Changes: map[string]any{"email": m.Email, "role": m.Role, "status": m.Status},
		})
	})
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}

// target loads the member p wants to change and checks p may touch them:
// an admin manages admins, members and viewers, never an owner.
func (s *Service) target(ctx context.Context, tx *store.Store, p auth.Principal, id string) (*store.Membership, error) {
	m, err := tx.Membership(ctx, p.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errMemberNotFound
	}
	if err != nil {
		return nil, err
	}
	if !p.Role.Outranks(auth.Role(m.Role)) {
		return nil, problem.Forbidden("insufficient_role", "only an owner can change or remove an owner")
	}
	return m, nil
}

// keepOwner refuses to take m's ownership away when m is the last active
// owner. The count is taken in tx (and locks the owners on PostgreSQL), so
// two owners demoting each other at once cannot leave none.
func (s *Service) keepOwner(ctx context.Context, tx *store.Store, orgID string, m *store.Membership) error {
	if auth.Role(m.Role) != auth.RoleOwner || m.Status != StatusActive {
		return nil
	}
	n, err := tx.CountOwners(ctx, orgID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return errLastOwner
	}
	return nil
}
