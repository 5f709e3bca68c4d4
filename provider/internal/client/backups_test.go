package client

import (
	"context"
	"testing"
)

func TestBackupRequests(t *testing.T) {
	backupJSON := `{"id":"bak_1","site_id":"site_1","type":"files","description":"","scheduled":false,"status":"completed","size_bytes":10,
"sha256":"ab","storage_location":"k","error":null,"started_at":null,"completed_at":"2030-01-01T00:00:00Z","expires_at":null,"created_at":"2030-01-01T00:00:00Z"}`
	withOp := `{"backup":` + backupJSON + `,"operation":` + operationQueued + `}`
	srv, c := newScripted(t, Config{},
		reply{status: 202, body: withOp},
		reply{status: 202, body: withOp},
		reply{status: 202, body: withOp},
		reply{status: 204},
	)
	ctx := context.Background()
	typ := BackupFiles
	if b, op, err := c.CreateBackup(ctx, BackupCreateOptions{SiteID: "site_1", Type: &typ}); err != nil || op == nil || *b.SizeBytes != 10 {
		t.Fatalf("CreateBackup = %+v, %v, %v", b, op, err)
	}
	if _, err := c.RestoreBackup(ctx, "bak_1", BackupRestoreOptions{}); err != nil {
		t.Fatalf("RestoreBackup: %v", err)
	}
	target := "site_2"
	if _, err := c.RestoreBackup(ctx, "bak_1", BackupRestoreOptions{TargetSiteID: &target}); err != nil {
		t.Fatalf("RestoreBackup into another site: %v", err)
	}
	if err := c.DeleteBackup(ctx, "bak_1"); err != nil {
		t.Fatalf("DeleteBackup: %v", err)
	}
	reqs := srv.requests()
	checkRequests(t, reqs, []recorded{
		{method: "POST", path: "/api/v1/backups", body: `{"site_id":"site_1","type":"files"}`},
		// A restore in place has no body.
		{method: "POST", path: "/api/v1/backups/bak_1/restore"},
		{method: "POST", path: "/api/v1/backups/bak_1/restore", body: `{"target_site_id":"site_2"}`},
		{method: "DELETE", path: "/api/v1/backups/bak_1"},
	})
	for _, i := range []int{0, 1, 2} {
		if reqs[i].header.Get("Idempotency-Key") == "" {
			t.Errorf("request %d carries no Idempotency-Key", i)
		}
	}
}

func TestBackupScheduleRequests(t *testing.T) {
	scheduleJSON := `{"site_id":"site_1","enabled":true,"frequency":"cron","cron":"@every 6h","timezone":"Europe/Paris","type":"full",
"keep_last":3,"keep_days":30,"next_run_at":"2030-01-01T06:00:00Z","last_run_at":null}`
	srv, c := newScripted(t, Config{},
		reply{status: 200, body: scheduleJSON},
		// A PUT sets absolute values: a 503 is retried.
		reply{status: 503, body: `{}`},
		reply{status: 200, body: scheduleJSON},
	)
	ctx := context.Background()
	s, err := c.BackupSchedule(ctx, "site_1")
	if err != nil || !s.Enabled || *s.Cron != "@every 6h" || *s.KeepDays != 30 || s.NextRunAt == nil || s.LastRunAt != nil {
		t.Fatalf("BackupSchedule = %+v, %v", s, err)
	}
	cron, keepLast := "@every 6h", int64(3)
	if _, err := c.SetBackupSchedule(ctx, "site_1", BackupScheduleOptions{Enabled: true, Frequency: ScheduleCron, Cron: &cron, KeepLast: &keepLast}); err != nil {
		t.Fatalf("SetBackupSchedule: %v", err)
	}
	put := `{"enabled":true,"frequency":"cron","cron":"@every 6h","keep_last":3}`
	checkRequests(t, srv.requests(), []recorded{
		{method: "GET", path: "/api/v1/sites/site_1/backup-schedule"},
		{method: "PUT", path: "/api/v1/sites/site_1/backup-schedule", body: put},
		{method: "PUT", path: "/api/v1/sites/site_1/backup-schedule", body: put},
	})
	if _, err := c.SetBackupSchedule(ctx, "", BackupScheduleOptions{}); err == nil {
		t.Error("SetBackupSchedule without a site id succeeded")
	}
}
