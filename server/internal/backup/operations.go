package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/store"
)

// Handlers returns the operation handlers to register with the job queue.
func (s *Service) Handlers() []jobs.Handler {
	return []jobs.Handler{createHandler{s}, restoreHandler{s}}
}

// createHandler runs backup.create. Every step may run again: the archive
// is streamed again from the start and replaces the object it wrote before.
type createHandler struct{ s *Service }

func (createHandler) Kind() string { return KindCreate }

func (h createHandler) Steps(ctx context.Context, op *store.Operation) ([]jobs.Step, error) {
	b, err := h.s.loadBackup(ctx, op.OrganizationID, op.TargetID)
	if err != nil {
		return nil, err
	}
	steps := []jobs.Step{
		{Name: "start the backup", Run: h.s.startStep},
		{Name: "stream the site into storage and verify the stored archive", Run: h.s.archiveStep},
		{Name: "mark the backup completed", Run: h.s.completeStep},
	}
	if b.Scheduled {
		steps = append(steps, jobs.Step{Name: "apply the schedule's retention", Run: h.s.retentionStep})
	}
	return steps, nil
}

func (createHandler) OnSuccess(context.Context, *store.Operation) error { return nil }

// OnFailure makes the failure visible: the backup is failed with the
// reason, its partial archive (if any) is deleted, the failure is counted
// and audited. A backup that completed before a later step (retention)
// failed keeps its verified archive.
func (h createHandler) OnFailure(ctx context.Context, op *store.Operation, cause error) error {
	s := h.s
	b, err := s.loadBackup(ctx, op.OrganizationID, op.TargetID)
	if err != nil {
		s.failed.Inc()
		s.Log.Warn("backup failed and is gone", slog.String("backup_id", op.TargetID), slog.String("error", cause.Error()))
		return nil
	}
	if b.Status == store.BackupCompleted {
		s.Log.Warn("retention after a backup failed", slog.String("backup_id", b.ID), slog.String("error", cause.Error()))
		return nil
	}
	s.failed.Inc()
	msg := errorText(cause)
	var errs []error
	if b.StorageKey != "" {
		errs = append(errs, s.Storage.Delete(ctx, b.StorageKey))
	}
	failed, empty, zero := store.BackupFailed, "", int64(0)
	errs = append(errs, s.Store.Tx(ctx, func(tx *store.Store) error {
		err := tx.UpdateBackup(ctx, b.OrganizationID, b.ID, nil, store.BackupUpdate{
			Status: &failed, Error: &msg, StorageKey: &empty, SHA256: &empty, SizeBytes: &zero,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: b.OrganizationID, Action: "backup.fail", TargetType: TargetType, TargetID: b.ID,
			Changes: map[string]any{"site_id": b.SiteID, "scheduled": b.Scheduled, "error": msg, "operation_id": op.ID},
		})
	}))
	s.Log.Warn("backup failed", slog.String("backup_id", b.ID), slog.String("organization_id", b.OrganizationID), slog.String("error", msg))
	return errors.Join(errs...)
}

// errorText is the error kept on a failed backup: the cause, capped.
func errorText(err error) string {
	msg := err.Error()
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return msg
}

var (
	errBackupDeleted = jobs.Permanent(errors.New("the backup was deleted"))
	errSiteDeleted   = jobs.Permanent(errors.New("the site was deleted"))
)

func (s *Service) loadBackup(ctx context.Context, orgID, id string) (*store.Backup, error) {
	b, err := s.Store.Backup(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBackupDeleted
	}
	return b, err
}

func (s *Service) loadSite(ctx context.Context, orgID, id string) (*store.Site, *provision.Host, error) {
	st, err := s.Store.Site(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errSiteDeleted
	}
	if err != nil {
		return nil, nil, err
	}
	h, err := s.Servers.Host(ctx, orgID, st.VPSID)
	if err != nil {
		return nil, nil, fmt.Errorf("reach the site's server: %w", err)
	}
	return st, h, nil
}

func (s *Service) startStep(ctx context.Context, r *jobs.Run) error {
	b, err := s.loadBackup(ctx, r.Op.OrganizationID, r.Op.TargetID)
	if err != nil {
		return err
	}
	running := store.BackupRunning
	u := store.BackupUpdate{Status: &running}
	if b.StartedAt == nil {
		now := s.now()
		u.StartedAt = &now
	}
	err = s.Store.UpdateBackup(ctx, b.OrganizationID, b.ID, []string{store.BackupPending, store.BackupRunning}, u)
	if errors.Is(err, store.ErrConflict) {
		return jobs.Permanent(fmt.Errorf("the backup is %s already", b.Status))
	}
	return err
}

// archiveStep streams the site's components from its server into one
// archive, hashing its plaintext and encrypting it on its way into
// storage, then reads the stored object back and verifies it before
// recording its checksum.
func (s *Service) archiveStep(ctx context.Context, r *jobs.Run) error {
	b, err := s.loadBackup(ctx, r.Op.OrganizationID, r.Op.TargetID)
	if err != nil {
		return err
	}
	st, h, err := s.loadSite(ctx, b.OrganizationID, b.SiteID)
	if err != nil {
		return err
	}
	comps := components(b.Type, b.SiteType)
	key := storageKey(b)
	start := time.Now()
	sum, size, err := s.writeArchive(ctx, r.Logf, key, b, st, h, comps)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	r.Logf("stored %s in %s; reading it back to verify it", formatBytes(size), elapsed.Round(time.Millisecond))
	if err := verifyArchive(ctx, s.Storage, s.Keys, key, b.ID, sum, comps); err != nil {
		// Retried from the start: the next attempt writes it again.
		return fmt.Errorf("verify the stored archive: %w", err)
	}
	r.Logf("verified: SHA-256 %s", sum)
	return s.Store.UpdateBackup(ctx, b.OrganizationID, b.ID, []string{store.BackupRunning}, store.BackupUpdate{
		SHA256: &sum, SizeBytes: &size, StorageKey: &key,
	})
}

// writeArchive streams the archive into storage under key and returns the
// SHA-256 of its plaintext and the size stored.
func (s *Service) writeArchive(ctx context.Context, logf func(string, ...any), key string, b *store.Backup, st *store.Site, h *provision.Host, comps []string) (string, int64, error) {
	pr, pw := io.Pipe()
	type result struct {
		n   int64
		err error
	}
	stored := make(chan result, 1)
	go func() {
		n, err := s.Storage.Put(ctx, key, pr)
		// Unblocks the writer of a storage that stopped reading early.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(errStorageStopped)
		}
		stored <- result{n, err}
	}()
	plain, err := s.produceArchive(ctx, logf, pw, b, st, h, comps)
	// A nil error ends the stream and lets storage commit it; any other
	// aborts the upload.
	pw.CloseWithError(err)
	res := <-stored
	switch {
	case res.err != nil && (err == nil || !errors.Is(res.err, err)):
		return "", 0, fmt.Errorf("store the archive: %w", res.err)
	case err != nil:
		return "", 0, err
	}
	return plain.sum(), res.n, nil
}

var errStorageStopped = errors.New("storage stopped reading before the end of the archive")

// produceArchive writes the encrypted archive to w and returns the writer
// that hashed its plaintext.
func (s *Service) produceArchive(ctx context.Context, logf func(string, ...any), w io.Writer, b *store.Backup, st *store.Site, h *provision.Host, comps []string) (*hashingWriter, error) {
	enc, err := s.Keys.encrypt(w)
	if err != nil {
		return nil, err
	}
	plain := newHashingWriter(enc)
	aw, err := newArchiveWriter(plain, manifest{
		Format: archiveFormat, BackupID: b.ID, SiteID: b.SiteID, SiteType: b.SiteType,
		Type: b.Type, Components: comps, CreatedAt: b.CreatedAt,
	})
	if err != nil {
		return nil, err
	}
	for _, c := range comps {
		aw.begin(c)
		zw, err := compress(aw)
		if err != nil {
			return nil, err
		}
		counted := &countingWriter{w: zw}
		switch c {
		case componentFiles:
			err = provision.ArchiveSiteFiles(ctx, h, siteSpec(st), counted)
		case componentDatabase:
			err = provision.DumpSiteDatabase(ctx, h, st.DatabaseName, counted)
		}
		if closeErr := zw.Close(); err == nil {
			err = closeErr
		}
		if err == nil {
			err = aw.end()
		}
		if err != nil {
			return nil, err
		}
		logf("%s: %s, compressed to %s", c, formatBytes(counted.n), formatBytes(aw.written))
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encrypt archive: %w", err)
	}
	return plain, nil
}

// completeStep marks the backup completed; a scheduled one expires after
// its schedule's keep_days.
func (s *Service) completeStep(ctx context.Context, r *jobs.Run) error {
	b, err := s.loadBackup(ctx, r.Op.OrganizationID, r.Op.TargetID)
	if err != nil {
		return err
	}
	if b.Status == store.BackupCompleted {
		return nil
	}
	if b.SHA256 == "" || b.StorageKey == "" {
		return errors.New("the archive was not recorded")
	}
	now := s.now()
	completed := store.BackupCompleted
	u := store.BackupUpdate{Status: &completed, CompletedAt: &now}
	if b.Scheduled {
		sched, err := s.Store.BackupSchedule(ctx, b.OrganizationID, b.SiteID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if sched != nil && sched.KeepDays != nil {
			expires := now.AddDate(0, 0, *sched.KeepDays)
			u.ExpiresAt = &expires
		}
	}
	return s.Store.UpdateBackup(ctx, b.OrganizationID, b.ID, []string{store.BackupRunning}, u)
}

// restoreHandler runs backup.restore into the target site: verify first,
// then files, then database. Each step may run again.
type restoreHandler struct{ s *Service }

func (restoreHandler) Kind() string { return KindRestore }

func (h restoreHandler) Steps(ctx context.Context, op *store.Operation) ([]jobs.Step, error) {
	var p restoreParams
	if err := jobs.DecodeParams(op, &p); err != nil {
		return nil, jobs.Permanent(err)
	}
	b, err := h.s.loadBackup(ctx, op.OrganizationID, p.BackupID)
	if err != nil {
		return nil, err
	}
	steps := []jobs.Step{{Name: "verify the stored archive against its checksum", Run: h.s.verifyStep}}
	for _, c := range components(p.Type, b.SiteType) {
		switch c {
		case componentFiles:
			steps = append(steps, jobs.Step{Name: "restore the files", Run: h.s.restoreStep(c)})
		case componentDatabase:
			steps = append(steps, jobs.Step{Name: "restore the database", Run: h.s.restoreStep(c)})
		}
	}
	return steps, nil
}

func (restoreHandler) OnSuccess(context.Context, *store.Operation) error { return nil }

func (h restoreHandler) OnFailure(_ context.Context, op *store.Operation, cause error) error {
	h.s.Log.Warn("restore failed", slog.String("operation_id", op.ID), slog.String("site_id", op.TargetID), slog.String("error", cause.Error()))
	return nil
}

// restoreBackup loads the backup a restore operation restores.
func (s *Service) restoreBackup(ctx context.Context, op *store.Operation) (*store.Backup, error) {
	var p restoreParams
	if err := jobs.DecodeParams(op, &p); err != nil {
		return nil, jobs.Permanent(err)
	}
	b, err := s.loadBackup(ctx, op.OrganizationID, p.BackupID)
	if err != nil {
		return nil, err
	}
	if b.Status != store.BackupCompleted {
		return nil, jobs.Permanent(fmt.Errorf("the backup is %s, not completed", b.Status))
	}
	return b, nil
}

// verifyStep reads the whole stored archive before anything is restored:
// an archive that is not the one recorded fails the restore at once, with
// the site untouched.
func (s *Service) verifyStep(ctx context.Context, r *jobs.Run) error {
	b, err := s.restoreBackup(ctx, r.Op)
	if err != nil {
		return err
	}
	err = verifyArchive(ctx, s.Storage, s.Keys, b.StorageKey, b.ID, b.SHA256, components(b.Type, b.SiteType))
	if errors.Is(err, ErrCorrupt) {
		return jobs.Permanent(fmt.Errorf("restore refused, the site was not changed: %w", err))
	}
	if err != nil {
		return err
	}
	r.Logf("the stored archive matches its SHA-256 %s", b.SHA256)
	return nil
}

// restoreStep streams one component of the archive into the target site.
func (s *Service) restoreStep(component string) func(ctx context.Context, r *jobs.Run) error {
	return func(ctx context.Context, r *jobs.Run) error {
		b, err := s.restoreBackup(ctx, r.Op)
		if err != nil {
			return err
		}
		st, h, err := s.loadSite(ctx, r.Op.OrganizationID, r.Op.TargetID)
		if err != nil {
			return err
		}
		n, err := s.restoreComponent(ctx, b, st, h, component)
		if err != nil {
			return err
		}
		r.Logf("restored %s (%s) into %s", component, formatBytes(n), st.Domain)
		return nil
	}
}

// restoreComponent streams one component of b's archive into the site st
// on h and returns the bytes sent.
func (s *Service) restoreComponent(ctx context.Context, b *store.Backup, st *store.Site, h *provision.Host, component string) (int64, error) {
	a, err := openArchive(ctx, s.Storage, s.Keys, b.StorageKey)
	if err != nil {
		return 0, err
	}
	defer func() { _ = a.Close() }()
	if a.manifest.BackupID != b.ID {
		return 0, jobs.Permanent(fmt.Errorf("%w: it is the archive of backup %s", ErrCorrupt, a.manifest.BackupID))
	}
	data, err := a.component(component)
	if err != nil {
		return 0, err
	}
	zr, err := decompress(data)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	counted := &countingReader{r: zr}
	switch component {
	case componentFiles:
		err = provision.RestoreSiteFiles(ctx, h, siteSpec(st), counted)
	case componentDatabase:
		err = provision.RestoreSiteDatabase(ctx, h, st.DatabaseName, counted)
	}
	return counted.n, err
}

// countingReader counts what a restore sent.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
