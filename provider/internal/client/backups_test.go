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
