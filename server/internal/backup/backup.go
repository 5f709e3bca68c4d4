// Package backup takes, stores, verifies and restores backups of sites.
//
// A backup streams the site's files (a tar made as the site user) and its
// database (a consistent mariadb-dump) from its server over SSH into one
// archive (see archive.go): compressed, hashed as it arrives and encrypted
// with age (keys.go) on its way into storage, a local directory or an S3
// bucket (storage.go, s3.go). Nothing is spooled on the server or kept in
// clear on the control plane. A backup is completed only once the stored
// object has been read back, decrypted and found to match its checksum; a
// restore checks it again before it touches the site, then replaces the
// site's files (swapped in once extracted) and database, in place or in
// another site of the same organization. Schedules take backups
// periodically and prune them by their retention (schedule.go,
// retention.go).
package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/site"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Backup types: what an archive holds.
const (
	TypeFull     = "full"
	TypeFiles    = "files"
	TypeDatabase = "database"
)

// Types lists the backup types.
var Types = []string{TypeFull, TypeFiles, TypeDatabase}

// Operation kinds this package runs.
const (
	// KindCreate takes a backup; its target is the backup.
	KindCreate = "backup.create"
	// KindRestore restores a backup; its target is the site restored into.
	KindRestore = "backup.restore"
	// TargetType is the target type of KindCreate operations.
	TargetType = "backup"
)

// Servers gives the means to run commands on an organization's VPS.
type Servers interface {
	Host(ctx context.Context, orgID, vpsID string) (*provision.Host, error)
}

// Enqueuer starts operations inside the caller's transaction.
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *store.Store, in jobs.Input) (*store.Operation, error)
}

// Deps is what the service is built from.
type Deps struct {
	Store   *store.Store
	Storage Storage
	Keys    *Keys
	Jobs    Enqueuer
	Servers Servers
	// Metrics receives chom_backups_failed_total; nil keeps it unregistered.
	Metrics prometheus.Registerer
	Log     *slog.Logger
}

// Service applies the backup rules.
type Service struct {
	Deps
	now    func() time.Time
	failed prometheus.Counter
}

// New returns the backup service.
func New(d Deps) (*Service, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Service{
		Deps: d,
		now:  func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chom_backups_failed_total",
			Help: "Backups that failed for good: their operation failed, or a scheduled run was refused by a quota.",
		}),
	}
	if d.Metrics != nil {
		if err := d.Metrics.Register(s.failed); err != nil {
			return nil, fmt.Errorf("backup metrics: %w", err)
		}
	}
	return s, nil
}

var (
	errBackupNotFound = problem.NotFound("backup")
	errSiteNotFound   = problem.NotFound("site")
	errSiteBusy       = problem.Conflict("operation_in_progress", "an operation is working on the site; wait for it to finish")
)

// Get returns one backup of the organization.
func (s *Service) Get(ctx context.Context, orgID, id string) (*store.Backup, error) {
	b, err := s.Store.Backup(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBackupNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get backup: %w", err)
	}
	return b, nil
}

// List returns the organization's backups, newest first.
func (s *Service) List(ctx context.Context, orgID string, f store.BackupFilter, p store.Page) ([]store.Backup, int64, error) {
	fields := problem.Fields{}
	if f.Status != "" {
		validate.OneOf(fields, "status", f.Status, store.BackupStatuses)
	}
	if f.Type != "" {
		validate.OneOf(fields, "type", f.Type, Types)
	}
	if err := fields.Err(); err != nil {
		return nil, 0, err
	}
	out, total, err := s.Store.ListBackups(ctx, orgID, f, p)
	if err != nil {
		return nil, 0, fmt.Errorf("list backups: %w", err)
	}
	return out, total, nil
}

// CreateInput asks for a backup; nil fields take their defaults.
type CreateInput struct {
	SiteID      string
	Type        *string
	Description *string
}

// Create records a pending backup of a site and starts the operation that
// takes it.
func (s *Service) Create(ctx context.Context, orgID string, in CreateInput) (*store.Backup, *store.Operation, error) {
	f := problem.Fields{}
	if strings.TrimSpace(in.SiteID) == "" {
		f.Add("site_id", "is required")
	}
	typ := TypeFull
	if in.Type != nil {
		typ = *in.Type
		validate.OneOf(f, "type", typ, Types)
	}
	desc := ""
	if in.Description != nil {
		desc = checkDescription(f, *in.Description)
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	var (
		b  *store.Backup
		op *store.Operation
	)
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		st, err := tx.Site(ctx, orgID, in.SiteID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.Invalid("site_id", "is not a site of this organization")
		}
		if err != nil {
			return err
		}
		if err := checkType(st.Type, typ); err != nil {
			return err
		}
		if !slices.Contains(store.SiteIdle, st.Status) {
			return errSiteBusy
		}
		b, op, err = s.enqueueBackup(ctx, tx, st, typ, desc, false)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create backup: %w", err)
	}
	return b, op, nil
}

// enqueueBackup records a backup of st within the organization's quotas
// and starts its operation, in tx.
func (s *Service) enqueueBackup(ctx context.Context, tx *store.Store, st *store.Site, typ, desc string, scheduled bool) (*store.Backup, *store.Operation, error) {
	if err := checkQuota(ctx, tx, st.OrganizationID); err != nil {
		return nil, nil, err
	}
	b := &store.Backup{
		ID: store.NewID(), OrganizationID: st.OrganizationID, SiteID: st.ID, SiteType: st.Type,
		Type: typ, Description: desc, Scheduled: scheduled, Status: store.BackupPending,
	}
	if err := tx.CreateBackup(ctx, b); err != nil {
		return nil, nil, err
	}
	op, err := s.Jobs.Enqueue(ctx, tx, jobs.Input{OrgID: b.OrganizationID, Kind: KindCreate, TargetType: TargetType, TargetID: b.ID})
	if err != nil {
		return nil, nil, err
	}
	err = audit.Record(ctx, tx, audit.Event{
		OrgID: b.OrganizationID, Action: "backup.create", TargetType: TargetType, TargetID: b.ID,
		Changes: map[string]any{
			"site_id": b.SiteID, "type": b.Type, "description": b.Description,
			"scheduled": scheduled, "operation_id": op.ID,
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return b, op, nil
}

// checkQuota refuses a new backup once the organization keeps max_backups
// backups or max_storage_bytes of archives. The organization's row is
// locked so that concurrent backups are counted one after another.
func checkQuota(ctx context.Context, tx *store.Store, orgID string) error {
	org, err := tx.LockOrganization(ctx, orgID)
	if err != nil {
		return err
	}
	usage, err := tx.BackupUsage(ctx, orgID)
	if err != nil {
		return err
	}
	if usage.Count >= org.MaxBackups {
		return problem.Quota("max_backups", org.MaxBackups)
	}
	if usage.Bytes >= org.MaxStorageBytes {
		return problem.Quota("max_storage_bytes", org.MaxStorageBytes)
	}
	return nil
}

// Delete removes a backup's archive from storage, then its row. A backup
// still being taken cannot be deleted.
func (s *Service) Delete(ctx context.Context, orgID, id string) error {
	b, err := s.Get(ctx, orgID, id)
	if err != nil {
		return err
	}
	if b.Status == store.BackupPending || b.Status == store.BackupRunning {
		return problem.Conflict("backup_in_progress", "the backup is being taken; wait for its operation to finish")
	}
	if err := s.remove(ctx, b, nil); err != nil {
		return fmt.Errorf("delete backup: %w", err)
	}
	return nil
}

// remove deletes b's archive and then its row, audited; changes add to
// the audit entry. The archive goes first: a row without its archive would
// promise a restore that cannot happen.
func (s *Service) remove(ctx context.Context, b *store.Backup, changes map[string]any) error {
	if b.StorageKey != "" {
		if err := s.Storage.Delete(ctx, b.StorageKey); err != nil {
			return err
		}
	}
	if changes == nil {
		changes = map[string]any{}
	}
	changes["site_id"], changes["type"], changes["status"] = b.SiteID, b.Type, b.Status
	return s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteBackup(ctx, b.OrganizationID, b.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: b.OrganizationID, Action: "backup.delete", TargetType: TargetType, TargetID: b.ID, Changes: changes,
		})
	})
}

// RestoreInput asks for a restore; nil fields take their defaults.
type RestoreInput struct {
	// TargetSiteID restores into another site of the organization (of the
	// same type) instead of the backed-up one.
	TargetSiteID *string
	// Type restores part of a full backup; it defaults to the backup's.
	Type *string
}

// restoreParams are the parameters of a KindRestore operation.
type restoreParams struct {
	BackupID string `json:"backup_id"`
	Type     string `json:"type"`
}

// Restore starts the operation that restores a completed backup into its
// site, or into another site of the organization.
func (s *Service) Restore(ctx context.Context, orgID, id string, in RestoreInput) (*store.Backup, *store.Operation, error) {
	b, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, nil, err
	}
	f := problem.Fields{}
	typ := b.Type
	if in.Type != nil {
		typ = *in.Type
		validate.OneOf(f, "type", typ, Types)
	}
	targetID := b.SiteID
	if in.TargetSiteID != nil {
		targetID = *in.TargetSiteID
		if strings.TrimSpace(targetID) == "" {
			f.Add("target_site_id", "must not be empty")
		}
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	if b.Status != store.BackupCompleted {
		return nil, nil, problem.Conflict("backup_not_completed", "only a completed backup can be restored; this one is %s", b.Status)
	}
	var op *store.Operation
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		target, err := tx.Site(ctx, orgID, targetID)
		switch {
		case errors.Is(err, store.ErrNotFound) && in.TargetSiteID == nil:
			return problem.Invalid("target_site_id", "is required: the backed-up site no longer exists")
		case errors.Is(err, store.ErrNotFound):
			return problem.Invalid("target_site_id", "is not a site of this organization")
		case err != nil:
			return err
		}
		if target.Type != b.SiteType {
			return problem.Invalid("target_site_id", fmt.Sprintf("is a %s site; the backup is of a %s site", target.Type, b.SiteType))
		}
		have, want := components(b.Type, b.SiteType), components(typ, b.SiteType)
		for _, c := range want {
			if !slices.Contains(have, c) {
				return problem.Invalid("type", fmt.Sprintf("asks for more than the %s backup holds", b.Type))
			}
		}
		if len(want) == 0 {
			return problem.Invalid("type", "the site has no database")
		}
		if !slices.Contains(store.SiteIdle, target.Status) {
			return errSiteBusy
		}
		if err := checkNoRestore(ctx, tx, orgID, target.ID); err != nil {
			return err
		}
		op, err = s.Jobs.Enqueue(ctx, tx, jobs.Input{
			OrgID: orgID, Kind: KindRestore, TargetType: site.TargetType, TargetID: target.ID,
			Params: restoreParams{BackupID: b.ID, Type: typ},
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "backup.restore", TargetType: TargetType, TargetID: b.ID,
			Changes: map[string]any{"target_site_id": target.ID, "type": typ, "operation_id": op.ID},
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("restore backup: %w", err)
	}
	return b, op, nil
}

// checkNoRestore refuses a second restore into a site while one is queued
// or running: both would extract into the same staging directory and load
// the same database.
func checkNoRestore(ctx context.Context, tx *store.Store, orgID, siteID string) error {
	for _, status := range []string{store.OperationQueued, store.OperationRunning} {
		ops, _, err := tx.ListOperations(ctx, orgID, store.OperationFilter{TargetType: site.TargetType, TargetID: siteID, Status: status}, store.Page{Limit: 100})
		if err != nil {
			return err
		}
		for _, op := range ops {
			if op.Kind == KindRestore {
				return problem.Conflict("restore_in_progress", "a restore into this site is under way (operation %s); wait for it to finish", op.ID)
			}
		}
	}
	return nil
}

// components lists what an archive of type typ of a site of siteType holds.
func components(typ, siteType string) []string {
	var out []string
	if typ != TypeDatabase {
		out = append(out, componentFiles)
	}
	if typ != TypeFiles && site.HasDatabase(siteType) {
		out = append(out, componentDatabase)
	}
	return out
}

// checkType refuses a database backup of a site that has no database.
func checkType(siteType, typ string) error {
	if typ == TypeDatabase && !site.HasDatabase(siteType) {
		return problem.Invalid("type", "a "+siteType+" site has no database")
	}
	return nil
}

func checkDescription(f problem.Fields, v string) string {
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		f.Add("description", "must be valid UTF-8")
	case utf8.RuneCountInString(v) > 255:
		f.Add("description", "must be at most 255 characters")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		f.Add("description", "must not contain control characters")
	}
	return v
}

// storageKey names a backup's archive: opaque to users, unique, and
// grouped by organization.
func storageKey(b *store.Backup) string { return b.OrganizationID + "/" + b.ID + ".tar.age" }

// siteSpec is the server's view of a site, as far as backups need it.
func siteSpec(st *store.Site) provision.Site {
	return provision.Site{Name: st.SystemUser, Type: st.Type, Domain: st.Domain, Aliases: st.Aliases, PHPVersion: st.PHPVersion}
}
