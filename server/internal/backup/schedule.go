package backup

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones from the binary's own database, whatever the host has

	"github.com/robfig/cron/v3"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/validate"
)

// Schedule limits and defaults.
const (
	DefaultKeepLast = 7
	MaxKeepLast     = 1000
	MaxKeepDays     = 3650
	// MinInterval is the shortest time a cron schedule may leave between
	// two backups.
	MinInterval = time.Hour
	// SweepInterval is how often due schedules are looked for.
	SweepInterval = time.Minute
	dueBatch      = 100
)

// Frequencies lists the schedule frequencies.
var Frequencies = []string{store.FrequencyDaily, store.FrequencyWeekly, store.FrequencyCron}

// ScheduleInput replaces a site's schedule. Enabled and Frequency are
// required; other nil fields take their defaults (KeepDays: no expiry).
type ScheduleInput struct {
	Enabled   *bool
	Frequency *string
	Cron      *string
	Timezone  *string
	Type      *string
	KeepLast  *int
	KeepDays  *int
}

// Schedule returns a site's schedule; a site that never had one gets the
// default, disabled.
func (s *Service) Schedule(ctx context.Context, orgID, siteID string) (*store.BackupSchedule, error) {
	st, err := s.Store.Site(ctx, orgID, siteID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSiteNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get backup schedule: %w", err)
	}
	bs, err := s.Store.BackupSchedule(ctx, orgID, siteID)
	if errors.Is(err, store.ErrNotFound) {
		return &store.BackupSchedule{
			SiteID: st.ID, OrganizationID: orgID, Frequency: store.FrequencyDaily,
			Timezone: "UTC", Type: TypeFull, KeepLast: DefaultKeepLast,
		}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get backup schedule: %w", err)
	}
	return bs, nil
}

// PutSchedule validates and stores a site's schedule, computing its next run.
func (s *Service) PutSchedule(ctx context.Context, orgID, siteID string, in ScheduleInput) (*store.BackupSchedule, error) {
	var out *store.BackupSchedule
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		st, err := tx.Site(ctx, orgID, siteID)
		if errors.Is(err, store.ErrNotFound) {
			return errSiteNotFound
		}
		if err != nil {
			return err
		}
		bs, err := planSchedule(st, in, s.now())
		if err != nil {
			return err
		}
		if err := tx.PutBackupSchedule(ctx, bs); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "backup_schedule.update", TargetType: "site", TargetID: siteID,
			Changes: map[string]any{
				"enabled": bs.Enabled, "frequency": bs.Frequency, "cron": bs.Cron, "timezone": bs.Timezone,
				"type": bs.Type, "keep_last": bs.KeepLast, "keep_days": bs.KeepDays,
			},
		}); err != nil {
			return err
		}
		out, err = tx.BackupSchedule(ctx, orgID, siteID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("put backup schedule: %w", err)
	}
	return out, nil
}

// planSchedule validates in for the site and returns the schedule to store,
// its next run computed from now when enabled.
func planSchedule(st *store.Site, in ScheduleInput, now time.Time) (*store.BackupSchedule, error) {
	f := problem.Fields{}
	bs := &store.BackupSchedule{
		SiteID: st.ID, OrganizationID: st.OrganizationID,
		Timezone: "UTC", Type: TypeFull, KeepLast: DefaultKeepLast,
	}
	if in.Enabled == nil {
		f.Add("enabled", "is required")
	} else {
		bs.Enabled = *in.Enabled
	}
	if in.Frequency == nil {
		f.Add("frequency", "is required")
	} else {
		bs.Frequency = *in.Frequency
		validate.OneOf(f, "frequency", bs.Frequency, Frequencies)
	}
	if in.Timezone != nil {
		bs.Timezone = *in.Timezone
	}
	loc, err := location(bs.Timezone)
	if err != nil {
		f.Add("timezone", "must be an IANA time zone such as Europe/Paris or UTC")
	}
	if in.Type != nil {
		bs.Type = *in.Type
		validate.OneOf(f, "type", bs.Type, Types)
		if err := checkType(st.Type, bs.Type); err != nil {
			f.Add("type", "a "+st.Type+" site has no database")
		}
	}
	if in.KeepLast != nil {
		bs.KeepLast = *in.KeepLast
		if bs.KeepLast < 1 || bs.KeepLast > MaxKeepLast {
			f.Add("keep_last", fmt.Sprintf("must be from 1 to %d", MaxKeepLast))
		}
	}
	if in.KeepDays != nil {
		days := *in.KeepDays
		bs.KeepDays = &days
		if days < 1 || days > MaxKeepDays {
			f.Add("keep_days", fmt.Sprintf("must be null or from 1 to %d", MaxKeepDays))
		}
	}
	switch {
	case bs.Frequency == store.FrequencyCron && (in.Cron == nil || strings.TrimSpace(*in.Cron) == ""):
		f.Add("cron", "is required with frequency cron")
	case bs.Frequency == store.FrequencyCron:
		bs.Cron = strings.Join(strings.Fields(*in.Cron), " ")
		if msg := checkCron(bs.Cron, loc, now); msg != "" {
			f.Add("cron", msg)
		}
	case in.Cron != nil && *in.Cron != "":
		f.Add("cron", "is set only with frequency cron")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if bs.Enabled {
		next, err := nextRun(bs, now)
		if err != nil {
			return nil, err
		}
		bs.NextRunAt = &next
	}
	return bs, nil
}

// location loads an IANA time zone; the server's own ("Local", "") is
// refused, since it would change with the machine.
func location(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errors.New("not a time zone name")
	}
	return time.LoadLocation(name)
}

// checkCron explains why expr cannot be a schedule, or returns "".
func checkCron(expr string, loc *time.Location, now time.Time) string {
	upper := strings.ToUpper(expr)
	if strings.HasPrefix(upper, "TZ=") || strings.HasPrefix(upper, "CRON_TZ=") {
		return "must not name a time zone; set timezone instead"
	}
	sched, err := cron.ParseStandard(expr)
	if err != nil {
		return "is not a cron expression (minute hour day-of-month month day-of-week, or @daily, @weekly, @every 6h…): " + err.Error()
	}
	if loc == nil {
		loc = time.UTC
	}
	t := sched.Next(now.In(loc))
	if t.IsZero() {
		return "never runs"
	}
	// Runs often enough to hurt show up within the first few dozen.
	for range 48 {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		if next.Sub(t) < MinInterval {
			return fmt.Sprintf("runs more than once every %s", MinInterval)
		}
		t = next
	}
	return ""
}

// expression is the cron expression a schedule runs on: the user's, or for
// daily and weekly a fixed time of the night (00:00 to 05:59) derived from
// the site's id, so that a fleet's backups do not all start at once.
func expression(bs *store.BackupSchedule) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(bs.SiteID))
	sum := h.Sum32()
	minute, hour := sum%60, (sum/60)%6
	switch bs.Frequency {
	case store.FrequencyDaily:
		return fmt.Sprintf("%d %d * * *", minute, hour)
	case store.FrequencyWeekly:
		return fmt.Sprintf("%d %d * * 0", minute, hour)
	}
	return bs.Cron
}

// nextRun is the schedule's first run after now, in UTC.
func nextRun(bs *store.BackupSchedule, now time.Time) (time.Time, error) {
	loc, err := location(bs.Timezone)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule of site %s: timezone %q: %w", bs.SiteID, bs.Timezone, err)
	}
	sched, err := cron.ParseStandard(expression(bs))
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule of site %s: %w", bs.SiteID, err)
	}
	next := sched.Next(now.In(loc))
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("schedule of site %s never runs", bs.SiteID)
	}
	return next.UTC().Truncate(time.Microsecond), nil
}

// RunDue takes a backup for every schedule that is due. It is the periodic
// sweep (every SweepInterval); an error means the database failed. A run
// due while an operation works on the site waits for the next sweep; a run
// a quota refuses is recorded as a failed backup, never skipped silently.
func (s *Service) RunDue(ctx context.Context) error {
	now := s.now()
	due, err := s.Store.DueBackupSchedules(ctx, now, dueBatch)
	if err != nil {
		return err
	}
	var errs []error
	for i := range due {
		if err := s.runSchedule(ctx, &due[i], now); err != nil {
			errs = append(errs, fmt.Errorf("backup schedule of site %s: %w", due[i].SiteID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) runSchedule(ctx context.Context, bs *store.BackupSchedule, now time.Time) error {
	next, err := nextRun(bs, now)
	if err != nil {
		return err
	}
	refused := false
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		st, err := tx.Site(ctx, bs.OrganizationID, bs.SiteID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !slices.Contains(store.SiteIdle, st.Status) {
			return nil
		}
		claimed, err := tx.ClaimBackupRun(ctx, bs.OrganizationID, bs.SiteID, *bs.NextRunAt, next, now)
		if err != nil || !claimed {
			return err
		}
		_, _, err = s.enqueueBackup(ctx, tx, st, bs.Type, "", true)
		if p, ok := problem.As(err); ok && p.Kind == problem.KindQuota {
			refused = true
			return s.recordRefused(ctx, tx, st, bs.Type, p.Message)
		}
		return err
	})
	if err == nil && refused {
		s.failed.Inc()
	}
	return err
}

// recordRefused records a scheduled backup a quota refused as failed.
func (s *Service) recordRefused(ctx context.Context, tx *store.Store, st *store.Site, typ, reason string) error {
	b := &store.Backup{
		ID: store.NewID(), OrganizationID: st.OrganizationID, SiteID: st.ID, SiteType: st.Type,
		Type: typ, Scheduled: true, Status: store.BackupFailed, Error: reason,
	}
	if err := tx.CreateBackup(ctx, b); err != nil {
		return err
	}
	s.Log.Warn("scheduled backup refused", "site_id", st.ID, "organization_id", st.OrganizationID, "reason", reason)
	return audit.Record(ctx, tx, audit.Event{
		OrgID: b.OrganizationID, Action: "backup.fail", TargetType: TargetType, TargetID: b.ID,
		Changes: map[string]any{"site_id": b.SiteID, "scheduled": true, "error": reason},
	})
}
