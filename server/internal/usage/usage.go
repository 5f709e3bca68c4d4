// Package usage reports what an organization uses against its limits, and
// the overview of its dashboard: objects by status, recent operations and
// failing health checks.
package usage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chomhq/chom/server/internal/store"
)

// Service reads usage.
type Service struct {
	store *store.Store
}

// New returns the usage service.
func New(st *store.Store) *Service { return &Service{store: st} }

// Quantity is one limited resource: what is used of it and the
// organization's limit.
type Quantity struct {
	Used  int64
	Limit int64
}

// Usage is an organization's consumption of each limit.
type Usage struct {
	Sites        Quantity
	VPS          Quantity
	Backups      Quantity
	StorageBytes Quantity
}

// Usage returns what the organization uses of each of its limits.
func (s *Service) Usage(ctx context.Context, orgID string) (*Usage, error) {
	org, err := s.store.Organization(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	sites, err := s.store.CountSites(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	servers, err := s.store.CountVPS(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	backups, err := s.store.BackupUsage(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	return &Usage{
		Sites:        Quantity{Used: sites, Limit: org.MaxSites},
		VPS:          Quantity{Used: servers, Limit: org.MaxVPS},
		Backups:      Quantity{Used: backups.Count, Limit: org.MaxBackups},
		StorageBytes: Quantity{Used: backups.Bytes, Limit: org.MaxStorageBytes},
	}, nil
}

// recentOperations is how many operations the dashboard shows.
const recentOperations = 10

// Dashboard is an organization at a glance.
type Dashboard struct {
	SitesByStatus    map[string]int64
	VPSByStatus      map[string]int64
	RecentOperations []store.Operation
	// FailingHealth lists the servers whose last health check found a
	// problem, or that are unreachable or in error.
	FailingHealth []store.VPS
}

// Dashboard returns the organization's overview.
func (s *Service) Dashboard(ctx context.Context, orgID string) (*Dashboard, error) {
	d := &Dashboard{}
	var err error
	if d.SitesByStatus, err = s.store.CountSitesByStatus(ctx, orgID); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if d.VPSByStatus, err = s.store.CountVPSByStatus(ctx, orgID); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	if d.RecentOperations, _, err = s.store.ListOperations(ctx, orgID, store.OperationFilter{}, store.Page{Limit: recentOperations}); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	for _, status := range []string{store.VPSUnreachable, store.VPSError, store.VPSActive} {
		for offset := 0; ; offset += pageSize {
			page, total, err := s.store.ListVPS(ctx, orgID, store.VPSFilter{Status: status}, store.Page{Limit: pageSize, Offset: offset})
			if err != nil {
				return nil, fmt.Errorf("dashboard: %w", err)
			}
			for _, v := range page {
				if Failing(&v) {
					d.FailingHealth = append(d.FailingHealth, v)
				}
			}
			if int64(offset+pageSize) >= total {
				break
			}
		}
	}
	slices.SortFunc(d.FailingHealth, func(a, b store.VPS) int { return checkedAt(b).Compare(checkedAt(a)) })
	return d, nil
}

const pageSize = 200

// Failing reports whether a server needs attention: it is unreachable or
// in error, or its last health check found nginx or PHP-FPM stopped.
func Failing(v *store.VPS) bool {
	if v.Status == store.VPSUnreachable || v.Status == store.VPSError {
		return true
	}
	h := v.LastHealth
	return h != nil && (!h.Reachable || !h.NginxRunning || !h.PHPFPMRunning)
}

func checkedAt(v store.VPS) time.Time {
	if v.LastHealth == nil {
		return time.Time{}
	}
	return v.LastHealth.CheckedAt
}
