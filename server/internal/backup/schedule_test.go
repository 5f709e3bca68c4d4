package backup

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

func ptr[T any](v T) *T { return &v }

func TestPlanScheduleValidation(t *testing.T) {
	wp := &store.Site{ID: "0b9f6f3e-5d1c-4b7e-9a51-1f2e3d4c5b6a", OrganizationID: "org", Type: "wordpress"}
	html := &store.Site{ID: "site-html", OrganizationID: "org", Type: "html"}
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		site   *store.Site
		in     ScheduleInput
		fields []string // the fields named, in order; none when valid
	}{
		{name: "daily with defaults", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily")}},
		{name: "weekly in a time zone", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("weekly"), Timezone: ptr("Europe/Paris")}},
		{name: "cron", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("30 2 * * *")}},
		{name: "cron descriptor", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("@every 6h")}},
		{name: "hourly is the most often", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("0 * * * *")}},
		{name: "disabled", in: ScheduleInput{Enabled: ptr(false), Frequency: ptr("daily"), KeepLast: ptr(2), KeepDays: ptr(30)}},
		{name: "database of a wordpress site", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Type: ptr("database")}},
		{name: "nothing", in: ScheduleInput{}, fields: []string{"enabled", "frequency"}},
		{name: "unknown frequency", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("hourly")}, fields: []string{"frequency"}},
		{name: "cron without expression", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron")}, fields: []string{"cron"}},
		{name: "cron blank", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("  ")}, fields: []string{"cron"}},
		{name: "cron malformed", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("61 * * * *")}, fields: []string{"cron"}},
		{name: "cron too often", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("*/5 * * * *")}, fields: []string{"cron"}},
		{name: "cron twice within an hour", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("0,30 3 * * *")}, fields: []string{"cron"}},
		{name: "cron every minute interval", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("@every 10m")}, fields: []string{"cron"}},
		{name: "cron never", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("0 0 30 2 *")}, fields: []string{"cron"}},
		{name: "cron with its own zone", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("cron"), Cron: ptr("CRON_TZ=UTC 0 3 * * *")}, fields: []string{"cron"}},
		{name: "cron with daily", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Cron: ptr("0 3 * * *")}, fields: []string{"cron"}},
		{name: "unknown time zone", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Timezone: ptr("Mars/Olympus")}, fields: []string{"timezone"}},
		{name: "server's own zone", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Timezone: ptr("Local")}, fields: []string{"timezone"}},
		{name: "empty zone", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Timezone: ptr("")}, fields: []string{"timezone"}},
		{name: "unknown type", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Type: ptr("incremental")}, fields: []string{"type"}},
		{name: "database of an html site", site: html, in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), Type: ptr("database")}, fields: []string{"type"}},
		{name: "keep none", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), KeepLast: ptr(0)}, fields: []string{"keep_last"}},
		{name: "keep too many", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), KeepLast: ptr(MaxKeepLast + 1)}, fields: []string{"keep_last"}},
		{name: "keep zero days", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), KeepDays: ptr(0)}, fields: []string{"keep_days"}},
		{name: "keep negative days", in: ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily"), KeepDays: ptr(-1)}, fields: []string{"keep_days"}},
		{name: "several at once", in: ScheduleInput{Frequency: ptr("cron"), Cron: ptr("bad"), KeepLast: ptr(-3), Timezone: ptr("Nowhere")},
			fields: []string{"cron", "enabled", "keep_last", "timezone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := tc.site
			if site == nil {
				site = wp
			}
			bs, err := planSchedule(site, tc.in, now)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if bs.Enabled != (bs.NextRunAt != nil) {
					t.Fatalf("enabled %v with next run %v", bs.Enabled, bs.NextRunAt)
				}
				if bs.NextRunAt != nil && !bs.NextRunAt.After(now) {
					t.Fatalf("next run %v is not after now", bs.NextRunAt)
				}
				return
			}
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid {
				t.Fatalf("err = %v, want a validation error", err)
			}
			var got []string
			for f := range p.Fields {
				got = append(got, f)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v (%v), want %v", got, p.Fields, tc.fields)
			}
		})
	}
}

func TestPlanScheduleDefaults(t *testing.T) {
	site := &store.Site{ID: "s1", OrganizationID: "org", Type: "laravel"}
	bs, err := planSchedule(site, ScheduleInput{Enabled: ptr(true), Frequency: ptr("daily")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if bs.Type != TypeFull || bs.KeepLast != DefaultKeepLast || bs.KeepDays != nil || bs.Timezone != "UTC" || bs.Cron != "" {
		t.Fatalf("defaults: %+v", bs)
	}
}

func TestNextRun(t *testing.T) {
	now := time.Date(2025, 3, 29, 23, 30, 0, 0, time.UTC) // Sunday 00:30 in Paris (CET)
	for _, tc := range []struct {
		name string
		bs   store.BackupSchedule
		want time.Time
	}{
		{
			name: "cron in UTC",
			bs:   store.BackupSchedule{SiteID: "s", Frequency: "cron", Cron: "0 3 * * *", Timezone: "UTC"},
			want: time.Date(2025, 3, 30, 3, 0, 0, 0, time.UTC),
		},
		{
			// 03:00 in Paris on the night clocks go forward is 01:00 UTC.
			name: "cron in Paris across the DST change",
			bs:   store.BackupSchedule{SiteID: "s", Frequency: "cron", Cron: "0 3 * * *", Timezone: "Europe/Paris"},
			want: time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC),
		},
		{
			name: "every six hours",
			bs:   store.BackupSchedule{SiteID: "s", Frequency: "cron", Cron: "@every 6h", Timezone: "UTC"},
			want: now.Add(6 * time.Hour),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := nextRun(&tc.bs, now)
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("nextRun = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestDailyAndWeeklySpread checks daily and weekly runs land in the night
// at a time fixed per site, and that sites do not all share it.
func TestDailyAndWeeklySpread(t *testing.T) {
	now := time.Date(2025, 6, 4, 12, 0, 0, 0, time.UTC) // a Wednesday
	times := map[string]bool{}
	for i := range 50 {
		id := store.NewID()
		daily := store.BackupSchedule{SiteID: id, Frequency: "daily", Timezone: "Asia/Tokyo"}
		d1, err := nextRun(&daily, now)
		if err != nil {
			t.Fatal(err)
		}
		local := d1.In(mustLocation(t, "Asia/Tokyo"))
		if local.Hour() > 5 || d1.Sub(now) > 24*time.Hour || d1.Sub(now) <= 0 {
			t.Fatalf("daily run %d at %v (local %v)", i, d1, local)
		}
		d2, _ := nextRun(&daily, d1)
		if d2.Sub(d1) != 24*time.Hour {
			t.Fatalf("two daily runs %v apart", d2.Sub(d1))
		}
		weekly := store.BackupSchedule{SiteID: id, Frequency: "weekly", Timezone: "UTC"}
		w, err := nextRun(&weekly, now)
		if err != nil || w.Weekday() != time.Sunday || w.Hour() > 5 {
			t.Fatalf("weekly run at %v, %v", w, err)
		}
		times[local.Format("15:04")] = true
	}
	if len(times) < 10 {
		t.Fatalf("50 sites share only %d times of the night", len(times))
	}
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestCheckCronMessages(t *testing.T) {
	now := time.Now()
	if msg := checkCron("*/15 * * * *", time.UTC, now); !strings.Contains(msg, "more than once every 1h0m0s") {
		t.Errorf("too often: %q", msg)
	}
	if msg := checkCron("TZ=Europe/Paris 0 3 * * *", time.UTC, now); !strings.Contains(msg, "set timezone instead") {
		t.Errorf("zone prefix: %q", msg)
	}
	if msg := checkCron("0 3 * * MON-FRI", time.UTC, now); msg != "" {
		t.Errorf("weekdays refused: %q", msg)
	}
}
