package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/store"
)

// expired picks, from a site's scheduled backups (newest first), those its
// schedule's retention deletes:
//
//   - completed backups beyond the newest keepLast, or whose expiry has
//     passed; the newest completed backup is kept whatever its expiry, so
//     retention never leaves a site without one;
//   - failed backups older than the oldest completed backup kept: they
//     stay visible until superseded, without piling up for ever.
//
// Backups still being taken are never picked.
func expired(backups []store.Backup, keepLast int, now time.Time) []store.Backup {
	var out []store.Backup
	kept := 0
	var oldestKept *time.Time
	for i := range backups {
		b := backups[i]
		if b.Status != store.BackupCompleted {
			continue
		}
		past := b.ExpiresAt != nil && !b.ExpiresAt.After(now)
		if kept == 0 || (kept < keepLast && !past) {
			kept++
			oldestKept = &backups[i].CreatedAt
			continue
		}
		out = append(out, b)
	}
	if oldestKept == nil {
		return out
	}
	for _, b := range backups {
		if b.Status == store.BackupFailed && b.CreatedAt.Before(*oldestKept) {
			out = append(out, b)
		}
	}
	return out
}

// retentionStep prunes the site's scheduled backups by its schedule's
// retention, after a scheduled backup completed. It can run again: what
// it deleted is gone from the list the next time.
func (s *Service) retentionStep(ctx context.Context, r *jobs.Run) error {
	b, err := s.loadBackup(ctx, r.Op.OrganizationID, r.Op.TargetID)
	if err != nil {
		return err
	}
	sched, err := s.Store.BackupSchedule(ctx, b.OrganizationID, b.SiteID)
	if errors.Is(err, store.ErrNotFound) {
		r.Logf("the site has no schedule any more; nothing pruned")
		return nil
	}
	if err != nil {
		return err
	}
	all, err := s.Store.ScheduledBackups(ctx, b.OrganizationID, b.SiteID)
	if err != nil {
		return err
	}
	gone := expired(all, sched.KeepLast, s.now())
	for i := range gone {
		old := &gone[i]
		if err := s.remove(ctx, old, map[string]any{"reason": "retention", "operation_id": r.Op.ID}); err != nil {
			return fmt.Errorf("delete backup %s: %w", old.ID, err)
		}
		r.Logf("retention deleted backup %s (%s, taken %s)", old.ID, old.Status, old.CreatedAt.Format(time.RFC3339))
	}
	if len(gone) == 0 {
		r.Logf("retention keeps every backup (keep_last %d)", sched.KeepLast)
	}
	return nil
}
