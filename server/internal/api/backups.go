package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/backup"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerBackupRoutes(r *gin.RouterGroup) {
	r.GET("/backups", can(auth.Read), a.listBackups)
	r.POST("/backups", can(auth.ManageSites), a.createBackup)
	r.GET("/backups/:id", can(auth.Read), a.getBackup)
	r.DELETE("/backups/:id", can(auth.ManageSites), a.deleteBackup)
	r.POST("/backups/:id/restore", can(auth.ManageSites), a.restoreBackup)
	r.GET("/sites/:id/backup-schedule", can(auth.Read), a.getBackupSchedule)
	r.PUT("/sites/:id/backup-schedule", can(auth.ManageSites), a.putBackupSchedule)
}

type createBackupRequest struct {
	SiteID      string  `json:"site_id"`
	Type        *string `json:"type"`
	Description *string `json:"description"`
}

type restoreBackupRequest struct {
	TargetSiteID *string `json:"target_site_id"`
	Type         *string `json:"type"`
}

// backupResponse is the Backup schema. The checksum, size and storage
// location are null until the backup has completed.
type backupResponse struct {
	ID              string     `json:"id"`
	SiteID          string     `json:"site_id"`
	Type            string     `json:"type"`
	Description     string     `json:"description"`
	Scheduled       bool       `json:"scheduled"`
	Status          string     `json:"status"`
	SizeBytes       *int64     `json:"size_bytes"`
	SHA256          *string    `json:"sha256"`
	StorageLocation *string    `json:"storage_location"`
	Error           *string    `json:"error"`
	StartedAt       *time.Time `json:"started_at"`
	CompletedAt     *time.Time `json:"completed_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

type backupOperationResponse struct {
	Backup    backupResponse    `json:"backup"`
	Operation operationResponse `json:"operation"`
}

type backupScheduleRequest struct {
	Enabled   *bool   `json:"enabled"`
	Frequency *string `json:"frequency"`
	Cron      *string `json:"cron"`
	Timezone  *string `json:"timezone"`
	Type      *string `json:"type"`
	KeepLast  *int    `json:"keep_last"`
	KeepDays  *int    `json:"keep_days"`
}

type backupScheduleResponse struct {
	SiteID    string     `json:"site_id"`
	Enabled   bool       `json:"enabled"`
	Frequency string     `json:"frequency"`
	Cron      *string    `json:"cron"`
	Timezone  string     `json:"timezone"`
	Type      string     `json:"type"`
	KeepLast  int        `json:"keep_last"`
	KeepDays  *int       `json:"keep_days"`
	NextRunAt *time.Time `json:"next_run_at"`
	LastRunAt *time.Time `json:"last_run_at"`
}

func toBackup(b *store.Backup) backupResponse {
	out := backupResponse{
		ID: b.ID, SiteID: b.SiteID, Type: b.Type, Description: b.Description, Scheduled: b.Scheduled,
		Status: b.Status, Error: nonEmpty(b.Error), StartedAt: b.StartedAt, CompletedAt: b.CompletedAt,
		ExpiresAt: b.ExpiresAt, CreatedAt: b.CreatedAt,
	}
	if b.Status == store.BackupCompleted {
		out.SizeBytes, out.SHA256, out.StorageLocation = &b.SizeBytes, &b.SHA256, &b.StorageKey
	}
	return out
}

func toBackupSchedule(bs *store.BackupSchedule) backupScheduleResponse {
	return backupScheduleResponse{
		SiteID: bs.SiteID, Enabled: bs.Enabled, Frequency: bs.Frequency, Cron: nonEmpty(bs.Cron),
		Timezone: bs.Timezone, Type: bs.Type, KeepLast: bs.KeepLast, KeepDays: bs.KeepDays,
		NextRunAt: bs.NextRunAt, LastRunAt: bs.LastRunAt,
	}
}

func (a *API) listBackups(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	f := store.BackupFilter{SiteID: c.Query("site_id"), Status: c.Query("status"), Type: c.Query("type")}
	list, total, err := a.Backups.List(c.Request.Context(), principal(c).OrgID, f, pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[backupResponse]{Data: make([]backupResponse, 0, len(list)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range list {
		out.Data = append(out.Data, toBackup(&list[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) createBackup(c *gin.Context) {
	var req createBackupRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	b, op, err := a.Backups.Create(c.Request.Context(), principal(c).OrgID, backup.CreateInput{
		SiteID: req.SiteID, Type: req.Type, Description: req.Description,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusAccepted, backupOperationResponse{Backup: toBackup(b), Operation: toOperation(op)})
}

func (a *API) getBackup(c *gin.Context) {
	b, err := a.Backups.Get(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toBackup(b))
}

func (a *API) deleteBackup(c *gin.Context) {
	if err := a.Backups.Delete(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) restoreBackup(c *gin.Context) {
	// The backup is looked up before the body is read: another tenant's id
	// is 404 whatever the body holds.
	if _, err := a.Backups.Get(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	var req restoreBackupRequest
	// The body is optional: none restores the whole backup in place.
	if err := bindJSON(c, &req); err != nil {
		if p, ok := problem.As(err); !ok || p.Code != "empty_body" {
			respond.Error(c, err)
			return
		}
	}
	b, op, err := a.Backups.Restore(c.Request.Context(), principal(c).OrgID, c.Param("id"), backup.RestoreInput{
		TargetSiteID: req.TargetSiteID, Type: req.Type,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusAccepted, backupOperationResponse{Backup: toBackup(b), Operation: toOperation(op)})
}

func (a *API) getBackupSchedule(c *gin.Context) {
	bs, err := a.Backups.Schedule(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toBackupSchedule(bs))
}

func (a *API) putBackupSchedule(c *gin.Context) {
	// Another tenant's site is 404 whatever the body holds.
	if _, err := a.Backups.Schedule(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	var req backupScheduleRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	bs, err := a.Backups.PutSchedule(c.Request.Context(), principal(c).OrgID, c.Param("id"), backup.ScheduleInput{
		Enabled: req.Enabled, Frequency: req.Frequency, Cron: req.Cron, Timezone: req.Timezone,
		Type: req.Type, KeepLast: req.KeepLast, KeepDays: req.KeepDays,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toBackupSchedule(bs))
}
