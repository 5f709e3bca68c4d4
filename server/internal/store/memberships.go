package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MembershipFilter narrows a list of members.
type MembershipFilter struct {
	Role   string
	Status string
	Email  string
}

// CreateMembership inserts a membership; the same e-mail twice in one
// organization is ErrConflict.
func (s *Store) CreateMembership(ctx context.Context, m *Membership) error {
	m.Email = strings.ToLower(m.Email)
	if err := translate(s.conn(ctx).Create(m).Error); err != nil {
		return fmt.Errorf("create membership: %w", err)
	}
	return nil
}

// Membership returns one member of the organization.
func (s *Store) Membership(ctx context.Context, orgID, id string) (*Membership, error) {
	var m Membership
	err := s.conn(ctx).Preload("User").Where("organization_id = ? AND id = ?", orgID, id).Take(&m).Error
	if err := translate(err); err != nil {
		return nil, fmt.Errorf("get membership: %w", err)
	}
	return &m, nil
}

// MembershipOfUser returns the user's membership in the organization.
func (s *Store) MembershipOfUser(ctx context.Context, orgID, userID string) (*Membership, error) {
	var m Membership
	err := s.conn(ctx).Where("organization_id = ? AND user_id = ? AND status = 'active'", orgID, userID).Take(&m).Error
	if err := translate(err); err != nil {
		return nil, fmt.Errorf("get membership: %w", err)
	}
	return &m, nil
}

// FirstMembershipOfUser returns the user's oldest active membership.
func (s *Store) FirstMembershipOfUser(ctx context.Context, userID string) (*Membership, error) {
	var m Membership
	err := s.conn(ctx).Where("user_id = ? AND status = 'active'", userID).Order("created_at, id").Take(&m).Error
	if err := translate(err); err != nil {
		return nil, fmt.Errorf("get membership: %w", err)
	}
	return &m, nil
}

// MembershipByInvitation finds a pending membership by the hash of its invitation token.
func (s *Store) MembershipByInvitation(ctx context.Context, tokenHash string) (*Membership, error) {
	var m Membership
	err := s.conn(ctx).Where("invitation_token_hash = ? AND status = 'pending'", tokenHash).Take(&m).Error
	if err := translate(err); err != nil {
		return nil, fmt.Errorf("get invitation: %w", err)
	}
	return &m, nil
}

// ListMemberships lists the organization's members, oldest first.
func (s *Store) ListMemberships(ctx context.Context, orgID string, f MembershipFilter, p Page) ([]Membership, int64, error) {
	q := s.conn(ctx).Model(&Membership{}).Where("organization_id = ?", orgID)
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Email != "" {
		q = q.Where("email = ?", strings.ToLower(f.Email))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list memberships: %w", err)
	}
	var out []Membership
	if err := q.Preload("User").Order("created_at, id").Limit(p.Limit).Offset(p.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list memberships: %w", err)
	}
	return out, total, nil
}

// UpdateMembershipRole changes a member's role.
func (s *Store) UpdateMembershipRole(ctx context.Context, orgID, id, role string) error {
	return s.updateMembership(ctx, orgID, id, map[string]any{"role": role})
}

// ActivateMembership marks an invitation accepted by userID. Only a
// pending membership matches, so of two concurrent acceptances of one
// invitation the second is ErrNotFound.
func (s *Store) ActivateMembership(ctx context.Context, orgID, id, userID string) error {
	return s.updateMembership(ctx, orgID, id, map[string]any{
		"user_id": userID, "status": "active", "invitation_token_hash": nil, "invitation_expires_at": nil,
	}, "status = 'pending'")
}

func (s *Store) updateMembership(ctx context.Context, orgID, id string, fields map[string]any, conds ...string) error {
	fields["updated_at"] = s.db.NowFunc()
	q := s.conn(ctx).Model(&Membership{}).Where("organization_id = ? AND id = ?", orgID, id)
	for _, c := range conds {
		q = q.Where(c)
	}
	res := q.Updates(fields)
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("update membership: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update membership: %w", ErrNotFound)
	}
	return nil
}

// DeleteMembership removes a member and revokes the tokens they hold in
// that organization.
func (s *Store) DeleteMembership(ctx context.Context, orgID, id string) error {
	m, err := s.Membership(ctx, orgID, id)
	if err != nil {
		return err
	}
	return s.transaction(ctx, func(tx *gorm.DB) error {
		if m.UserID != nil {
			if err := tx.Model(&APIToken{}).
				Where("organization_id = ? AND user_id = ? AND revoked_at IS NULL", orgID, *m.UserID).
				Update("revoked_at", time.Now().UTC()).Error; err != nil {
				return fmt.Errorf("delete membership: %w", err)
			}
		}
		if err := tx.Where("organization_id = ? AND id = ?", orgID, id).Delete(&Membership{}).Error; err != nil {
			return fmt.Errorf("delete membership: %w", err)
		}
		return nil
	})
}

// CountOwners counts the organization's active owners, locking them on
// PostgreSQL so two concurrent demotions cannot both pass the check.
func (s *Store) CountOwners(ctx context.Context, orgID string) (int64, error) {
	q := s.conn(ctx).Model(&Membership{}).Where("organization_id = ? AND role = 'owner' AND status = 'active'", orgID)
	if s.dialect == Postgres {
		var ids []string
		if err := q.Clauses(forUpdate()).Pluck("id", &ids).Error; err != nil {
			return 0, fmt.Errorf("count owners: %w", err)
		}
		return int64(len(ids)), nil
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}
