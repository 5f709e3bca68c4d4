package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// The queries behind an organization's usage and dashboard.

// CountVPSByStatus counts the organization's servers in each status.
func (s *Store) CountVPSByStatus(ctx context.Context, orgID string) (map[string]int64, error) {
	return countByStatus(s.conn(ctx).Model(&VPS{}).Where("organization_id = ?", orgID), "count vps")
}

// countByStatus groups q's rows by their status column.
func countByStatus(q *gorm.DB, what string) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := q.Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
