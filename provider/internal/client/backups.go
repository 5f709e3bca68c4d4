package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Backup types.
const (
	BackupFull     = "full"
	BackupFiles    = "files"
	BackupDatabase = "database"
)

// BackupTypes lists every backup type.
var BackupTypes = []string{BackupFull, BackupFiles, BackupDatabase}

// Backup statuses.
const (
	BackupPending   = "pending"
	BackupRunning   = "running"
	BackupCompleted = "completed"
	BackupFailed    = "failed"
)

// Backup is an archive of a site's files and/or database.
type Backup struct {
	ID string `json:"id"`
	// SiteID is the backed-up site; it may have been deleted since.
	SiteID      string `json:"site_id"`
	Type        string `json:"type"`
	Description string `json:"description"`
	// Scheduled backups are taken by the site's schedule and pruned by it.
	Scheduled bool   `json:"scheduled"`
	Status    string `json:"status"`
	// SizeBytes, SHA256 and StorageLocation are nil until completed.
	SizeBytes       *int64     `json:"size_bytes"`
	SHA256          *string    `json:"sha256"`
	StorageLocation *string    `json:"storage_location"`
	Error           *string    `json:"error"`
	StartedAt       *time.Time `json:"started_at"`
	CompletedAt     *time.Time `json:"completed_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

// backupWithOperation is the answer to the requests that start work on a
// backup.
type backupWithOperation struct {
	Backup    Backup     `json:"backup"`
	Operation *Operation `json:"operation"`
}

// BackupCreateOptions backs up a site; nil fields take the server's
// defaults (a full backup, no description).
type BackupCreateOptions struct {
	SiteID      string  `json:"site_id"`
	Type        *string `json:"type,omitempty"`
	Description *string `json:"description,omitempty"`
}

// BackupRestoreOptions restores a backup; the zero value restores all of
// it into the site it was taken of.
type BackupRestoreOptions struct {
	// TargetSiteID restores into another site of the same type.
	TargetSiteID *string `json:"target_site_id,omitempty"`
	// Type restores part of a full backup: files or database.
	Type *string `json:"type,omitempty"`
}

// CreateBackup starts backing up a site and returns the backup with the
// operation taking it. The request carries an Idempotency-Key so that a
// retry after a lost answer does not back up twice.
func (c *Client) CreateBackup(ctx context.Context, opts BackupCreateOptions) (*Backup, *Operation, error) {
	if opts.SiteID == "" {
		return nil, nil, errors.New("create backup: site id is required")
	}
	var out backupWithOperation
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/v1/backups", body: opts, idempotencyKey: newIdempotencyKey()}, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("create backup: %w", err)
	}
	return &out.Backup, out.Operation, nil
}

// Backup returns one backup by id.
func (c *Client) Backup(ctx context.Context, id string) (*Backup, error) {
	if id == "" {
		return nil, errors.New("get backup: id is empty")
	}
	var out Backup
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/backups/" + url.PathEscape(id)}, &out); err != nil {
		return nil, fmt.Errorf("get backup %s: %w", id, err)
	}
	return &out, nil
}

// DeleteBackup deletes a backup and its archive. A backup still being
// taken is refused with the code "backup_in_progress".
func (c *Client) DeleteBackup(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("delete backup: id is empty")
	}
	if err := c.do(ctx, request{method: http.MethodDelete, path: "/api/v1/backups/" + url.PathEscape(id)}, nil); err != nil {
		return fmt.Errorf("delete backup %s: %w", id, err)
	}
	return nil
}

// RestoreBackup starts restoring a completed backup and returns the
// operation doing it. The request carries an Idempotency-Key so that a
// retry after a lost answer does not restore twice.
func (c *Client) RestoreBackup(ctx context.Context, id string, opts BackupRestoreOptions) (*Operation, error) {
	if id == "" {
		return nil, errors.New("restore backup: id is empty")
	}
	req := request{method: http.MethodPost, path: "/api/v1/backups/" + url.PathEscape(id) + "/restore", idempotencyKey: newIdempotencyKey()}
	if opts != (BackupRestoreOptions{}) {
		req.body = opts
	}
	var out backupWithOperation
	if err := c.do(ctx, req, &out); err != nil {
		return nil, fmt.Errorf("restore backup %s: %w", id, err)
	}
	return out.Operation, nil
}

// Backup schedule frequencies.
const (
	ScheduleDaily  = "daily"
	ScheduleWeekly = "weekly"
	ScheduleCron   = "cron"
)

// ScheduleFrequencies lists every schedule frequency.
var ScheduleFrequencies = []string{ScheduleDaily, ScheduleWeekly, ScheduleCron}

// BackupSchedule is when a site is backed up by CHOM on its own, and how
// many of those backups are kept.
type BackupSchedule struct {
	SiteID    string `json:"site_id"`
	Enabled   bool   `json:"enabled"`
	Frequency string `json:"frequency"`
	// Cron is the expression of frequency "cron"; nil otherwise.
	Cron     *string `json:"cron"`
	Timezone string  `json:"timezone"`
	Type     string  `json:"type"`
	KeepLast int64   `json:"keep_last"`
	// KeepDays is nil when scheduled backups do not expire.
	KeepDays *int64 `json:"keep_days"`
	// NextRunAt is nil while the schedule is disabled.
	NextRunAt *time.Time `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
}

// BackupScheduleOptions replaces a site's schedule; nil fields take the
// server's defaults (UTC, full backups, the last 7 kept, no expiry).
type BackupScheduleOptions struct {
	Enabled   bool    `json:"enabled"`
	Frequency string  `json:"frequency"`
	Cron      *string `json:"cron,omitempty"`
	Timezone  *string `json:"timezone,omitempty"`
	Type      *string `json:"type,omitempty"`
	KeepLast  *int64  `json:"keep_last,omitempty"`
	KeepDays  *int64  `json:"keep_days,omitempty"`
}

// BackupSchedule returns a site's backup schedule; a site that never had
// one has the default schedule, disabled.
func (c *Client) BackupSchedule(ctx context.Context, siteID string) (*BackupSchedule, error) {
	if siteID == "" {
		return nil, errors.New("get backup schedule: site id is empty")
	}
	var out BackupSchedule
	if err := c.do(ctx, request{method: http.MethodGet, path: backupSchedulePath(siteID)}, &out); err != nil {
		return nil, fmt.Errorf("get backup schedule of site %s: %w", siteID, err)
	}
	return &out, nil
}

// SetBackupSchedule replaces a site's backup schedule and returns it as
// stored.
func (c *Client) SetBackupSchedule(ctx context.Context, siteID string, opts BackupScheduleOptions) (*BackupSchedule, error) {
	if siteID == "" {
		return nil, errors.New("set backup schedule: site id is empty")
	}
	var out BackupSchedule
	if err := c.do(ctx, request{method: http.MethodPut, path: backupSchedulePath(siteID), body: opts}, &out); err != nil {
		return nil, fmt.Errorf("set backup schedule of site %s: %w", siteID, err)
	}
	return &out, nil
}

func backupSchedulePath(siteID string) string {
	return "/api/v1/sites/" + url.PathEscape(siteID) + "/backup-schedule"
}
