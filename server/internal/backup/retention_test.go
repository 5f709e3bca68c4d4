package backup

import (
	"slices"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/store"
)

func TestRetentionSelection(t *testing.T) {
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	// b builds a backup taken age ago, newest-first order being the
	// caller's; expires is relative to now (0 for never).
	b := func(id, status string, age, expires time.Duration) store.Backup {
		out := store.Backup{ID: id, Status: status, CreatedAt: now.Add(-age)}
		if expires != 0 {
			e := now.Add(expires)
			out.ExpiresAt = &e
		}
		return out
	}
	const (
		done    = store.BackupCompleted
		failed  = store.BackupFailed
		running = store.BackupRunning
		pending = store.BackupPending
	)
	for _, tc := range []struct {
		name     string
		backups  []store.Backup // newest first
		keepLast int
		want     []string
	}{
		{name: "nothing", keepLast: 2},
		{
			name:     "fewer than keep_last",
			backups:  []store.Backup{b("3", done, 0, 0), b("2", done, day, 0)},
			keepLast: 2,
		},
		{
			name:     "a third run with keep 2",
			backups:  []store.Backup{b("3", done, 0, 0), b("2", done, day, 0), b("1", done, 2*day, 0)},
			keepLast: 2,
			want:     []string{"1"},
		},
		{
			name:     "keep 1 of many",
			backups:  []store.Backup{b("4", done, 0, 0), b("3", done, day, 0), b("2", done, 2*day, 0), b("1", done, 3*day, 0)},
			keepLast: 1,
			want:     []string{"3", "2", "1"},
		},
		{
			name:     "expired within keep_last",
			backups:  []store.Backup{b("3", done, 0, 7*day), b("2", done, 8*day, -day), b("1", done, 9*day, -2*day)},
			keepLast: 5,
			want:     []string{"2", "1"},
		},
		{
			name:     "expiring exactly now",
			backups:  []store.Backup{b("2", done, 0, 7*day), b("1", done, 7*day, 0)},
			keepLast: 5,
		},
		{
			name:     "the newest is kept even when expired",
			backups:  []store.Backup{b("2", done, 10*day, -day), b("1", done, 11*day, -2*day)},
			keepLast: 5,
			want:     []string{"1"},
		},
		{
			name: "backups in progress are never touched",
			backups: []store.Backup{
				b("5", running, 0, 0), b("4", pending, 0, 0), b("3", done, day, 0), b("2", done, 2*day, 0), b("1", done, 3*day, 0),
			},
			keepLast: 1,
			want:     []string{"2", "1"},
		},
		{
			name: "failed ones go once older than every backup kept",
			backups: []store.Backup{
				b("6", failed, 0, 0), b("5", done, day, 0), b("4", failed, 2*day, 0), b("3", done, 3*day, 0),
				b("2", failed, 4*day, 0), b("1", done, 5*day, 0),
			},
			keepLast: 2,
			want:     []string{"1", "2"},
		},
		{
			name:     "failed ones stay while nothing completed",
			backups:  []store.Backup{b("2", failed, 0, 0), b("1", failed, day, 0)},
			keepLast: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range expired(tc.backups, tc.keepLast, now) {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("expired = %v, want %v", got, tc.want)
			}
		})
	}
}
