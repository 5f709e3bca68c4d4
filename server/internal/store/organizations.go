package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// CreateOrganization inserts an organization.
func (s *Store) CreateOrganization(ctx context.Context, o *Organization) error {
	if err := translate(s.conn(ctx).Create(o).Error); err != nil {
		return fmt.Errorf("create organization: %w", err)
	}
	return nil
}

// Organization returns the tenant itself.
func (s *Store) Organization(ctx context.Context, orgID string) (*Organization, error) {
	var o Organization
	if err := translate(s.conn(ctx).Where("id = ?", orgID).Take(&o).Error); err != nil {
		return nil, fmt.Errorf("get organization: %w", err)
	}
	return &o, nil
}

// UpdateOrganization saves the organization's settings.
func (s *Store) UpdateOrganization(ctx context.Context, o *Organization) error {
	res := s.conn(ctx).Model(&Organization{}).Where("id = ?", o.ID).Updates(map[string]any{
		"name": o.Name, "require_2fa": o.Require2FA, "updated_at": s.db.NowFunc(),
	})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("update organization: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update organization: %w", ErrNotFound)
	}
	return nil
}

// LockOrganization returns the organization and, on PostgreSQL, locks its
// row until the transaction ends, so that concurrent creations check the
// organization's quotas one after another. (SQLite transactions already
// run one writer at a time.)
func (s *Store) LockOrganization(ctx context.Context, orgID string) (*Organization, error) {
	q := s.conn(ctx)
	if s.dialect == Postgres {
		q = q.Clauses(forUpdate())
	}
	var o Organization
	if err := translate(q.Where("id = ?", orgID).Take(&o).Error); err != nil {
		return nil, fmt.Errorf("lock organization: %w", err)
	}
	return &o, nil
}

// TakeSiteSlot counts one more site against the organization's max_sites,
// in a single conditional update of its row, so concurrent creations can
// never pass the limit. It reports false when the organization is at it.
func (s *Store) TakeSiteSlot(ctx context.Context, orgID string) (bool, error) {
	res := s.conn(ctx).Set(authUnchanged, true).Model(&Organization{}).
		Where("id = ? AND sites_count < max_sites", orgID).
		UpdateColumn("sites_count", gorm.Expr("sites_count + 1"))
	if res.Error != nil {
		return false, fmt.Errorf("take site slot: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseSiteSlot counts one site less, for a site deleted.
func (s *Store) ReleaseSiteSlot(ctx context.Context, orgID string) error {
	res := s.conn(ctx).Set(authUnchanged, true).Model(&Organization{}).
		Where("id = ? AND sites_count > 0", orgID).
		UpdateColumn("sites_count", gorm.Expr("sites_count - 1"))
	if res.Error != nil {
		return fmt.Errorf("release site slot: %w", res.Error)
	}
	return nil
}
