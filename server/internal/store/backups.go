package store

import (
	"context"
	"fmt"
	"time"
)

// Backup statuses. Pending waits for its operation; running has it
// streaming; completed has a stored archive whose checksum was verified
// after it was written; failed says why in Error.
const (
	BackupPending   = "pending"
	BackupRunning   = "running"
	BackupCompleted = "completed"
	BackupFailed    = "failed"
)

// BackupStatuses lists every status, for validating filters.
var BackupStatuses = []string{BackupPending, BackupRunning, BackupCompleted, BackupFailed}

// Backup is one archive of a site's files, database or both.
type Backup struct {
	ID             string `gorm:"primaryKey"`
	OrganizationID string
	// SiteID has no foreign key: a backup outlives its site.
	SiteID   string
	SiteType string
	Type     string
	// Description is the user's note.
	Description string
	// Scheduled backups are taken by the site's schedule and pruned by its
	// retention; manual ones stay until deleted.
	Scheduled bool
	Status    string
	// SizeBytes is the size of the stored (encrypted) object.
	SizeBytes int64
	// SHA256 is the hex digest of the archive's plaintext.
	SHA256 string `gorm:"column:sha256"`
	// StorageKey names the object in backup storage; "" until written.
	StorageKey  string
	Error       string
	StartedAt   *time.Time
	CompletedAt *time.Time
	ExpiresAt   *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// BackupFilter narrows a list of backups; empty fields match all.
type BackupFilter struct {
	SiteID string
	Status string
	Type   string
}

// BackupUpdate holds the changes of one transition; nil fields stay.
type BackupUpdate struct {
	Status      *string
	SizeBytes   *int64
	SHA256      *string
	StorageKey  *string
	Error       *string
	StartedAt   *time.Time
	CompletedAt *time.Time
	ExpiresAt   *time.Time
}

// BackupUsage is what an organization's backups take of its quotas.
type BackupUsage struct {
	// Count is the backups that exist or are being taken; failed ones
	// hold no archive and do not count.
	Count int64
	// Bytes is the stored size of every archive.
	Bytes int64
}

// CreateBackup inserts a backup.
func (s *Store) CreateBackup(ctx context.Context, b *Backup) error {
	if err := translate(s.conn(ctx).Create(b).Error); err != nil {
		return fmt.Errorf("create backup: %w", err)
	}
	return nil
}

// Backup returns one backup of the organization.
func (s *Store) Backup(ctx context.Context, orgID, id string) (*Backup, error) {
	var b Backup
	if err := translate(s.conn(ctx).Where("organization_id = ? AND id = ?", orgID, id).Take(&b).Error); err != nil {
		return nil, fmt.Errorf("get backup: %w", err)
	}
	return &b, nil
}

// ListBackups returns the organization's backups, newest first.
func (s *Store) ListBackups(ctx context.Context, orgID string, f BackupFilter, p Page) ([]Backup, int64, error) {
	q := s.conn(ctx).Model(&Backup{}).Where("organization_id = ?", orgID)
	if f.SiteID != "" {
		q = q.Where("site_id = ?", f.SiteID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list backups: %w", err)
	}
	var out []Backup
	if err := q.Order("created_at DESC, id DESC").Limit(p.Limit).Offset(p.Offset).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list backups: %w", err)
	}
	return out, total, nil
}

// ScheduledBackups returns the site's scheduled backups, newest first, for
// its retention.
func (s *Store) ScheduledBackups(ctx context.Context, orgID, siteID string) ([]Backup, error) {
	var out []Backup
	err := s.conn(ctx).Where("organization_id = ? AND site_id = ? AND scheduled", orgID, siteID).
		Order("created_at DESC, id DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list scheduled backups: %w", err)
	}
	return out, nil
}

// UpdateBackup applies u to a backup of the organization, but only while
// its status is one of from (any status when from is empty). A missing
// backup is ErrNotFound; one in another status is ErrConflict.
func (s *Store) UpdateBackup(ctx context.Context, orgID, id string, from []string, u BackupUpdate) error {
	values := map[string]any{"updated_at": s.db.NowFunc()}
	setIf(values, "status", u.Status)
	setIf(values, "size_bytes", u.SizeBytes)
	setIf(values, "sha256", u.SHA256)
	setIf(values, "storage_key", u.StorageKey)
	setIf(values, "error", u.Error)
	if u.StartedAt != nil {
		values["started_at"] = utcPtr(u.StartedAt)
	}
	if u.CompletedAt != nil {
		values["completed_at"] = utcPtr(u.CompletedAt)
	}
	if u.ExpiresAt != nil {
		values["expires_at"] = utcPtr(u.ExpiresAt)
	}
	q := s.conn(ctx).Model(&Backup{}).Where("organization_id = ? AND id = ?", orgID, id)
	if len(from) > 0 {
		q = q.Where("status IN ?", from)
	}
	res := q.Updates(values)
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("update backup: %w", err)
	}
	if res.RowsAffected == 0 {
		if _, err := s.Backup(ctx, orgID, id); err != nil {
			return fmt.Errorf("update backup: %w", err)
		}
		return fmt.Errorf("update backup: %w", ErrConflict)
	}
	return nil
}

// DeleteBackup removes a backup's row; its archive must be gone already.
func (s *Store) DeleteBackup(ctx context.Context, orgID, id string) error {
	res := s.conn(ctx).Where("organization_id = ? AND id = ?", orgID, id).Delete(&Backup{})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("delete backup: %w", err)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete backup: %w", ErrNotFound)
	}
	return nil
}

// BackupUsage sums the organization's backups for its quotas and usage.
func (s *Store) BackupUsage(ctx context.Context, orgID string) (BackupUsage, error) {
	var u BackupUsage
	err := s.conn(ctx).Model(&Backup{}).
		Select("COUNT(*) AS count, COALESCE(SUM(size_bytes), 0) AS bytes").
		Where("organization_id = ? AND status <> ?", orgID, BackupFailed).
		Scan(&u).Error
	if err != nil {
		return BackupUsage{}, fmt.Errorf("backup usage: %w", err)
	}
	return u, nil
}

// Backup schedule frequencies.
const (
	FrequencyDaily  = "daily"
	FrequencyWeekly = "weekly"
	FrequencyCron   = "cron"
)

// BackupSchedule is a site's automatic backups and their retention.
type BackupSchedule struct {
	SiteID         string `gorm:"primaryKey"`
	OrganizationID string
	Enabled        bool
	Frequency      string
	// Cron is the expression of the cron frequency, "" otherwise.
	Cron     string
	Timezone string
	Type     string
	KeepLast int
	// KeepDays, when set, expires scheduled backups that many days after
	// they completed.
	KeepDays *int
	// NextRunAt is nil while the schedule is disabled.
	NextRunAt *time.Time
	LastRunAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BackupSchedule returns a site's schedule; a site without one is
// ErrNotFound.
func (s *Store) BackupSchedule(ctx context.Context, orgID, siteID string) (*BackupSchedule, error) {
	var bs BackupSchedule
	if err := translate(s.conn(ctx).Where("organization_id = ? AND site_id = ?", orgID, siteID).Take(&bs).Error); err != nil {
		return nil, fmt.Errorf("get backup schedule: %w", err)
	}
	return &bs, nil
}

// PutBackupSchedule creates or replaces a site's schedule. The site must
// be the organization's: the caller checks it in the same transaction.
func (s *Store) PutBackupSchedule(ctx context.Context, bs *BackupSchedule) error {
	now := s.db.NowFunc()
	bs.UpdatedAt = now
	bs.NextRunAt = utcPtr(bs.NextRunAt)
	res := s.conn(ctx).Model(&BackupSchedule{}).
		Where("organization_id = ? AND site_id = ?", bs.OrganizationID, bs.SiteID).
		Updates(map[string]any{
			"enabled": bs.Enabled, "frequency": bs.Frequency, "cron": bs.Cron, "timezone": bs.Timezone,
			"type": bs.Type, "keep_last": bs.KeepLast, "keep_days": bs.KeepDays,
			"next_run_at": bs.NextRunAt, "updated_at": now,
		})
	if err := translate(res.Error); err != nil {
		return fmt.Errorf("put backup schedule: %w", err)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	bs.CreatedAt = now
	if err := translate(s.conn(ctx).Create(bs).Error); err != nil {
		return fmt.Errorf("put backup schedule: %w", err)
	}
	return nil
}

// DueBackupSchedules returns enabled schedules of every organization whose
// next run is at or before now, the most overdue first. Like VPSToCheck it
// looks past the tenant, for the periodic sweep; each row carries its
// organization and everything done with it afterwards is scoped again.
func (s *Store) DueBackupSchedules(ctx context.Context, now time.Time, limit int) ([]BackupSchedule, error) {
	var out []BackupSchedule
	err := s.conn(ctx).Where("enabled AND next_run_at IS NOT NULL AND next_run_at <= ?", now.UTC()).
		Order("next_run_at, site_id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list due backup schedules: %w", err)
	}
	return out, nil
}

// ClaimBackupRun moves a due schedule's next run from due to next and
// records ran as its last run, in one conditional update: of two sweeps
// racing for the same run, one gets true and takes the backup.
func (s *Store) ClaimBackupRun(ctx context.Context, orgID, siteID string, due, next, ran time.Time) (bool, error) {
	res := s.conn(ctx).Model(&BackupSchedule{}).
		Where("organization_id = ? AND site_id = ? AND enabled AND next_run_at = ?", orgID, siteID, due.UTC()).
		Updates(map[string]any{"next_run_at": next.UTC(), "last_run_at": ran.UTC(), "updated_at": s.db.NowFunc()})
	if err := translate(res.Error); err != nil {
		return false, fmt.Errorf("claim backup run: %w", err)
	}
	return res.RowsAffected == 1, nil
}
