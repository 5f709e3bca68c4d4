package api_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
)

// storedBackup records a backup of the tenant directly, in the given
// status; a completed one gets an object in the server's backup directory.
func storedBackup(t *testing.T, e *apitest.Env, orgID, siteID, siteType, typ, status string) *store.Backup {
	t.Helper()
	b := &store.Backup{
		ID: store.NewID(), OrganizationID: orgID, SiteID: siteID, SiteType: siteType, Type: typ, Status: status,
	}
	if status == store.BackupCompleted {
		now := time.Now().UTC()
		b.StorageKey, b.SHA256, b.SizeBytes, b.StartedAt, b.CompletedAt = orgID+"/"+b.ID+".tar.age", strings.Repeat("ab", 32), 9, &now, &now
		path := filepath.Join(e.DataDir, "backups", filepath.FromSlash(b.StorageKey))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("encrypted"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Server.Store.CreateBackup(context.Background(), b); err != nil {
		t.Fatalf("create backup: %v", err)
	}
	return b
}

// createBackupFixture is the isolation test's backup of the victim. A
// backup outlives its site, so it needs none.
func createBackupFixture(t *testing.T, e *apitest.Env, v *apitest.Tenant) string {
	return storedBackup(t, e, v.OrgID, store.NewID(), "wordpress", "full", store.BackupCompleted).ID
}

// backupSites gives the tenant an active WordPress site and an active
// html site on a VPS of its own.
func backupSites(t *testing.T, e *apitest.Env, owner *apitest.Tenant) (wp, html string) {
	t.Helper()
	activeVPS(t, e, owner.OrgID, "web-1", 10)
	// Host names are unique on the whole platform.
	prefix := strings.ToLower(rand.Text()[:8])
	wp = createSite(t, e, owner.Token, map[string]any{"domain": "blog-" + prefix + ".example.com", "type": "wordpress"}).Site["id"].(string)
	html = createSite(t, e, owner.Token, map[string]any{"domain": "static-" + prefix + ".example.com", "type": "html"}).Site["id"].(string)
	markSite(t, e, owner.OrgID, wp, store.SiteActive)
	markSite(t, e, owner.OrgID, html, store.SiteActive)
	return wp, html
}

type backupWithOperation struct {
	Backup    map[string]any `json:"backup"`
	Operation map[string]any `json:"operation"`
}

func TestBackupCreate(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		owner := e.Register(t, "backups")
		other := e.Register(t, "other")
		wp, html := backupSites(t, e, owner)
		_, otherSite := backupSites(t, e, other)

		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
			opts  []apitest.RequestOption
		}{
			{"no site", map[string]any{"site_id": ""}, "site_id", nil},
			{"unknown type", map[string]any{"site_id": wp, "type": "incremental"}, "type", []apitest.RequestOption{apitest.Invalid()}},
			{"database of an html site", map[string]any{"site_id": html, "type": "database"}, "type", nil},
			{"another tenant's site", map[string]any{"site_id": otherSite}, "site_id", nil},
			{"description too long", map[string]any{"site_id": wp, "description": strings.Repeat("x", 256)}, "description", []apitest.RequestOption{apitest.Invalid()}},
			{"description with a line break", map[string]any{"site_id": wp, "description": "a\nb"}, "description", nil},
		} {
			resp := e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, tc.body, tc.opts...)
			if resp.Status != http.StatusUnprocessableEntity || resp.ErrorFields(t)[tc.field] == "" {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.name, resp.Status, resp.Body, tc.field)
			}
		}
		if resp := e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, map[string]any{}, apitest.Invalid()); resp.Status != http.StatusUnprocessableEntity {
			t.Errorf("empty body: %d %s", resp.Status, resp.Body)
		}

		resp := e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, map[string]any{"site_id": wp, "description": "  before the upgrade "})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		var created backupWithOperation
		resp.Decode(t, &created)
		b, op := created.Backup, created.Operation
		if b["site_id"] != wp || b["type"] != "full" || b["status"] != "pending" || b["description"] != "before the upgrade" ||
			b["scheduled"] != false || b["sha256"] != nil || b["size_bytes"] != nil || b["storage_location"] != nil {
			t.Fatalf("created backup: %v", b)
		}
		if op["kind"] != "backup.create" || op["target_type"] != "backup" || op["target_id"] != b["id"] || op["status"] != "queued" {
			t.Fatalf("operation: %v", op)
		}
		got := e.Do(t, http.MethodGet, "/api/v1/backups/"+b["id"].(string), owner.Token, nil)
		if got.Status != http.StatusOK || got.Map(t)["status"] != "pending" {
			t.Fatalf("get: %d %s", got.Status, got.Body)
		}
		entries := listAudit(t, e, owner.Token, url.Values{"target_id": {b["id"].(string)}})
		if len(entries.Data) != 1 || entries.Data[0].Action != "backup.create" || entries.Data[0].Changes["operation_id"] != op["id"] {
			t.Fatalf("audit: %+v", entries.Data)
		}

		// An html site's full backup is its files.
		if resp := e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, map[string]any{"site_id": html, "type": "files"}); resp.Status != http.StatusAccepted {
			t.Fatalf("files backup of the html site: %d %s", resp.Status, resp.Body)
		}

		// A site an operation works on waits.
		markSite(t, e, owner.OrgID, wp, store.SiteProvisioning)
		if resp := e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, map[string]any{"site_id": wp}); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "operation_in_progress" {
			t.Fatalf("busy site: %d %s", resp.Status, resp.Body)
		}
		markSite(t, e, owner.OrgID, wp, store.SiteActive)

		// Quotas: the count, then the bytes; failed backups count toward neither.
		setLimit(t, e, owner.OrgID, "max_backups", 2)
		resp = e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, map[string]any{"site_id": wp})
		if resp.Status != http.StatusForbidden || resp.ErrorCode(t) != "quota_exceeded" || resp.ErrorFields(t)["limit"] != "max_backups" {
			t.Fatalf("over max_backups: %d %s", resp.Status, resp.Body)
		}
		storedBackup(t, e, owner.OrgID, wp, "wordpress", "full", store.BackupFailed)
		setLimit(t, e, owner.OrgID, "max_backups", 10)
		storedBackup(t, e, owner.OrgID, wp, "wordpress", "full", store.BackupCompleted) // 9 bytes
		setLimit(t, e, owner.OrgID, "max_storage_bytes", 9)
		resp = e.Do(t, http.MethodPost, "/api/v1/backups", owner.Token, map[string]any{"site_id": wp})
		if resp.Status != http.StatusForbidden || resp.ErrorFields(t)["limit"] != "max_storage_bytes" {
			t.Fatalf("over max_storage_bytes: %d %s", resp.Status, resp.Body)
		}
		usage, err := e.Server.Store.BackupUsage(context.Background(), owner.OrgID)
		if err != nil || usage.Count != 3 || usage.Bytes != 9 {
			t.Fatalf("usage %+v, %v; want 3 backups (the failed one left out) of 9 bytes", usage, err)
		}

		// A read-only token cannot take backups.
		tok := e.Do(t, http.MethodPost, "/api/v1/tokens", owner.Token, map[string]any{"name": "ro", "abilities": []string{"read"}})
		readOnly := tok.Map(t)["token"].(string)
		if resp := e.Do(t, http.MethodPost, "/api/v1/backups", readOnly, map[string]any{"site_id": wp}); resp.Status != http.StatusForbidden {
			t.Fatalf("read-only token: %d %s", resp.Status, resp.Body)
		}
		if resp := e.Do(t, http.MethodGet, "/api/v1/backups", readOnly, nil); resp.Status != http.StatusOK {
			t.Fatalf("read-only token lists: %d %s", resp.Status, resp.Body)
		}
	})
}

func TestBackupListAndDelete(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "backups")
	wp, html := backupSites(t, e, owner)
	done := storedBackup(t, e, owner.OrgID, wp, "wordpress", "full", store.BackupCompleted)
	running := storedBackup(t, e, owner.OrgID, wp, "wordpress", "database", store.BackupRunning)
	failed := storedBackup(t, e, owner.OrgID, html, "html", "files", store.BackupFailed)

	for _, tc := range []struct {
		query string
		want  []string // newest first
	}{
		{"", []string{failed.ID, running.ID, done.ID}},
		{"?site_id=" + wp, []string{running.ID, done.ID}},
		{"?status=completed", []string{done.ID}},
		{"?type=files", []string{failed.ID}},
		{"?site_id=" + wp + "&type=full&status=completed", []string{done.ID}},
		{"?limit=1&offset=1", []string{running.ID}},
	} {
		resp := e.Do(t, http.MethodGet, "/api/v1/backups"+tc.query, owner.Token, nil)
		var page struct {
			Data       []map[string]any    `json:"data"`
			Pagination struct{ Total int } `json:"pagination"`
		}
		resp.Decode(t, &page)
		var ids []string
		for _, b := range page.Data {
			ids = append(ids, b["id"].(string))
		}
		if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("list%s = %v, want %v", tc.query, ids, tc.want)
		}
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/backups?status=lost", owner.Token, nil, apitest.Invalid()); resp.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad status filter: %d", resp.Status)
	}

	got := e.Do(t, http.MethodGet, "/api/v1/backups/"+done.ID, owner.Token, nil).Map(t)
	if got["sha256"] != done.SHA256 || got["size_bytes"] != float64(9) || got["storage_location"] != done.StorageKey {
		t.Fatalf("completed backup: %v", got)
	}
	if strings.HasPrefix(got["storage_location"].(string), "/") || strings.Contains(got["storage_location"].(string), e.DataDir) {
		t.Fatalf("storage_location %v is a path of the server", got["storage_location"])
	}

	if resp := e.Do(t, http.MethodDelete, "/api/v1/backups/"+running.ID, owner.Token, nil); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "backup_in_progress" {
		t.Fatalf("delete running: %d %s", resp.Status, resp.Body)
	}
	object := filepath.Join(e.DataDir, "backups", filepath.FromSlash(done.StorageKey))
	if resp := e.Do(t, http.MethodDelete, "/api/v1/backups/"+done.ID, owner.Token, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.Status, resp.Body)
	}
	if _, err := os.Stat(object); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the archive is still in storage: %v", err)
	}
	if resp := e.Do(t, http.MethodGet, "/api/v1/backups/"+done.ID, owner.Token, nil); resp.Status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", resp.Status)
	}
	if resp := e.Do(t, http.MethodDelete, "/api/v1/backups/"+failed.ID, owner.Token, nil); resp.Status != http.StatusNoContent {
		t.Fatalf("delete failed: %d %s", resp.Status, resp.Body)
	}
	entries := listAudit(t, e, owner.Token, url.Values{"target_id": {done.ID}})
	if len(entries.Data) != 1 || entries.Data[0].Action != "backup.delete" {
		t.Fatalf("audit: %+v", entries.Data)
	}
}

func TestBackupRestoreRequests(t *testing.T) {
	e := apitest.New(t)
	owner := e.Register(t, "backups")
	other := e.Register(t, "other")
	wp, html := backupSites(t, e, owner)
	otherWP, _ := backupSites(t, e, other)
	wp2 := createSite(t, e, owner.Token, map[string]any{"domain": "clone-" + strings.ToLower(rand.Text()[:8]) + ".example.com", "type": "wordpress"}).Site["id"].(string)
	markSite(t, e, owner.OrgID, wp2, store.SiteActive)

	full := storedBackup(t, e, owner.OrgID, wp, "wordpress", "full", store.BackupCompleted)
	filesOnly := storedBackup(t, e, owner.OrgID, wp, "wordpress", "files", store.BackupCompleted)
	pending := storedBackup(t, e, owner.OrgID, wp, "wordpress", "full", store.BackupPending)
	gone := storedBackup(t, e, owner.OrgID, store.NewID(), "wordpress", "full", store.BackupCompleted)

	restore := func(id string, body any, opts ...apitest.RequestOption) *apitest.Response {
		return e.Do(t, http.MethodPost, "/api/v1/backups/"+id+"/restore", owner.Token, body, opts...)
	}
	// No body: the whole backup, in place.
	resp := restore(full.ID, nil)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("restore: %d %s", resp.Status, resp.Body)
	}
	var started backupWithOperation
	resp.Decode(t, &started)
	if started.Backup["id"] != full.ID || started.Operation["kind"] != "backup.restore" ||
		started.Operation["target_type"] != "site" || started.Operation["target_id"] != wp {
		t.Fatalf("restore started %v", started)
	}
	// Into another site, part of it.
	resp = restore(full.ID, map[string]any{"target_site_id": wp2, "type": "database"})
	resp.Decode(t, &started)
	if resp.Status != http.StatusAccepted || started.Operation["target_id"] != wp2 {
		t.Fatalf("clone: %d %s", resp.Status, resp.Body)
	}

	for _, tc := range []struct {
		name   string
		id     string
		body   map[string]any
		status int
		field  string
	}{
		{"another type of site", full.ID, map[string]any{"target_site_id": html}, 422, "target_site_id"},
		{"another tenant's site", full.ID, map[string]any{"target_site_id": otherWP}, 422, "target_site_id"},
		{"empty target", full.ID, map[string]any{"target_site_id": ""}, 422, "target_site_id"},
		{"more than the backup holds", filesOnly.ID, map[string]any{"type": "database"}, 422, "type"},
		{"the site was deleted", gone.ID, nil, 422, "target_site_id"},
		{"not completed", pending.ID, nil, 409, ""},
	} {
		var body any
		if tc.body != nil {
			body = tc.body
		}
		resp := restore(tc.id, body)
		if resp.Status != tc.status || (tc.field != "" && resp.ErrorFields(t)[tc.field] == "") {
			t.Errorf("%s: %d %s", tc.name, resp.Status, resp.Body)
		}
	}
	// One restore into a site at a time.
	if resp := restore(filesOnly.ID, nil); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "restore_in_progress" {
		t.Fatalf("a second restore into the site: %d %s", resp.Status, resp.Body)
	}
	// The backup of a deleted site restores into another one.
	wp3 := createSite(t, e, owner.Token, map[string]any{"domain": "clone3-" + strings.ToLower(rand.Text()[:8]) + ".example.com", "type": "wordpress"}).Site["id"].(string)
	markSite(t, e, owner.OrgID, wp3, store.SiteActive)
	if resp := restore(gone.ID, map[string]any{"target_site_id": wp3}); resp.Status != http.StatusAccepted {
		t.Fatalf("restore of a deleted site's backup: %d %s", resp.Status, resp.Body)
	}
	markSite(t, e, owner.OrgID, wp, store.SiteDeleting)
	if resp := restore(full.ID, nil); resp.Status != http.StatusConflict || resp.ErrorCode(t) != "operation_in_progress" {
		t.Fatalf("restore into a busy site: %d %s", resp.Status, resp.Body)
	}
	entries := listAudit(t, e, owner.Token, url.Values{"action": {"backup.restore"}})
	if len(entries.Data) != 3 {
		t.Fatalf("%d backup.restore audit entries, want 3", len(entries.Data))
	}
}

func TestBackupSchedule(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		owner := e.Register(t, "backups")
		wp, html := backupSites(t, e, owner)
		path := "/api/v1/sites/" + wp + "/backup-schedule"

		def := e.Do(t, http.MethodGet, path, owner.Token, nil).Map(t)
		if def["enabled"] != false || def["frequency"] != "daily" || def["keep_last"] != float64(7) || def["keep_days"] != nil ||
			def["timezone"] != "UTC" || def["next_run_at"] != nil || def["site_id"] != wp {
			t.Fatalf("default schedule: %v", def)
		}

		for _, tc := range []struct {
			name   string
			path   string
			body   map[string]any
			fields []string
			opts   []apitest.RequestOption
		}{
			{"missing required", path, map[string]any{"keep_last": 3}, []string{"enabled", "frequency"}, []apitest.RequestOption{apitest.Invalid()}},
			{"bad cron", path, map[string]any{"enabled": true, "frequency": "cron", "cron": "* * *"}, []string{"cron"}, nil},
			{"too often", path, map[string]any{"enabled": true, "frequency": "cron", "cron": "*/10 * * * *"}, []string{"cron"}, nil},
			{"cron with weekly", path, map[string]any{"enabled": true, "frequency": "weekly", "cron": "0 1 * * *"}, []string{"cron"}, nil},
			{"bad zone", path, map[string]any{"enabled": true, "frequency": "daily", "timezone": "Europe/Atlantis"}, []string{"timezone"}, nil},
			{"keep nothing", path, map[string]any{"enabled": true, "frequency": "daily", "keep_last": 0}, []string{"keep_last"}, []apitest.RequestOption{apitest.Invalid()}},
			{"html database", "/api/v1/sites/" + html + "/backup-schedule", map[string]any{"enabled": true, "frequency": "daily", "type": "database"}, []string{"type"}, nil},
		} {
			resp := e.Do(t, http.MethodPut, tc.path, owner.Token, tc.body, tc.opts...)
			fields := resp.ErrorFields(t)
			ok := resp.Status == http.StatusUnprocessableEntity && len(fields) == len(tc.fields)
			for _, f := range tc.fields {
				ok = ok && fields[f] != ""
			}
			if !ok {
				t.Errorf("%s: %d %s, want 422 naming %v", tc.name, resp.Status, resp.Body, tc.fields)
			}
		}

		before := time.Now()
		resp := e.Do(t, http.MethodPut, path, owner.Token, map[string]any{
			"enabled": true, "frequency": "cron", "cron": "  0   3 * * * ", "timezone": "Europe/Paris",
			"type": "database", "keep_last": 2, "keep_days": 30,
		})
		if resp.Status != http.StatusOK {
			t.Fatalf("put: %d %s", resp.Status, resp.Body)
		}
		s := resp.Map(t)
		next, err := time.Parse(time.RFC3339, s["next_run_at"].(string))
		if err != nil || s["cron"] != "0 3 * * *" || s["keep_days"] != float64(30) || s["type"] != "database" ||
			!next.After(before) || next.In(mustParis(t)).Hour() != 3 || next.Sub(before) > 25*time.Hour {
			t.Fatalf("stored schedule: %v", s)
		}
		if got := e.Do(t, http.MethodGet, path, owner.Token, nil).Map(t); got["next_run_at"] != s["next_run_at"] || got["enabled"] != true {
			t.Fatalf("get after put: %v", got)
		}
		// Disabling clears the next run; omitted fields take their defaults.
		off := e.Do(t, http.MethodPut, path, owner.Token, map[string]any{"enabled": false, "frequency": "daily", "cron": nil}).Map(t)
		if off["next_run_at"] != nil || off["cron"] != nil || off["keep_last"] != float64(7) || off["keep_days"] != nil || off["timezone"] != "UTC" {
			t.Fatalf("disabled schedule: %v", off)
		}
		if resp := e.Do(t, http.MethodPut, "/api/v1/sites/"+store.NewID()+"/backup-schedule", owner.Token, map[string]any{"enabled": true, "frequency": "daily"}); resp.Status != http.StatusNotFound {
			t.Fatalf("unknown site: %d", resp.Status)
		}
	})
}

func mustParis(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// makeDue moves a site's next scheduled run into the past.
func makeDue(t *testing.T, e *apitest.Env, siteID string) {
	t.Helper()
	q := "UPDATE backup_schedules SET next_run_at = $1 WHERE site_id = $2"
	if e.Dialect == store.SQLite {
		q = "UPDATE backup_schedules SET next_run_at = ? WHERE site_id = ?"
	}
	if _, err := e.Server.Store.SQLDB().Exec(q, time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond), siteID); err != nil {
		t.Fatal(err)
	}
}

// TestBackupScheduleSweep runs the periodic sweep (no worker takes the
// backups it starts): a due schedule starts one scheduled backup and moves
// to its next run; a busy site waits; a run the quota refuses is recorded
// as a failed backup, counted and audited.
func TestBackupScheduleSweep(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		ctx := context.Background()
		owner := e.Register(t, "backups")
		wp, _ := backupSites(t, e, owner)
		path := "/api/v1/sites/" + wp + "/backup-schedule"
		if resp := e.Do(t, http.MethodPut, path, owner.Token, map[string]any{"enabled": true, "frequency": "daily", "type": "database"}); resp.Status != http.StatusOK {
			t.Fatalf("put: %d %s", resp.Status, resp.Body)
		}
		list := func() []map[string]any {
			var page struct {
				Data []map[string]any `json:"data"`
			}
			e.Do(t, http.MethodGet, "/api/v1/backups?site_id="+wp, owner.Token, nil).Decode(t, &page)
			return page.Data
		}

		// Not due yet: nothing happens.
		if err := e.Server.Backups.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := list(); len(got) != 0 {
			t.Fatalf("a schedule that is not due started %v", got)
		}

		makeDue(t, e, wp)
		if err := e.Server.Backups.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		got := list()
		if len(got) != 1 || got[0]["scheduled"] != true || got[0]["type"] != "database" || got[0]["status"] != "pending" {
			t.Fatalf("after the sweep: %v", got)
		}
		s := e.Do(t, http.MethodGet, path, owner.Token, nil).Map(t)
		next, _ := time.Parse(time.RFC3339, s["next_run_at"].(string))
		if s["last_run_at"] == nil || !next.After(time.Now()) {
			t.Fatalf("the schedule did not move on: %v", s)
		}
		if err := e.Server.Backups.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := list(); len(got) != 1 {
			t.Fatalf("a second sweep started another backup: %d", len(got))
		}

		// A busy site waits for the next sweep, still due.
		makeDue(t, e, wp)
		markSite(t, e, owner.OrgID, wp, store.SiteProvisioning)
		if err := e.Server.Backups.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := list(); len(got) != 1 {
			t.Fatalf("a busy site got a backup: %d", len(got))
		}
		markSite(t, e, owner.OrgID, wp, store.SiteActive)

		// Refused by the quota: a failed backup, never a silent skip.
		setLimit(t, e, owner.OrgID, "max_backups", 1)
		if err := e.Server.Backups.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		got = list()
		if len(got) != 2 || got[0]["status"] != "failed" || !strings.Contains(got[0]["error"].(string), "max_backups") {
			t.Fatalf("after a refused run: %v", got)
		}
		metrics := e.Do(t, http.MethodGet, "/metrics", "", nil)
		if !strings.Contains(string(metrics.Body), "chom_backups_failed_total 1\n") {
			t.Fatal("the refused run is not counted")
		}
		entries := listAudit(t, e, owner.Token, url.Values{"target_id": {got[0]["id"].(string)}})
		if len(entries.Data) != 1 || entries.Data[0].Action != "backup.fail" {
			t.Fatalf("audit of the refused run: %+v", entries.Data)
		}
	})
}
