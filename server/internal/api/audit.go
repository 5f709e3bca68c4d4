package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerAuditRoutes(r *gin.RouterGroup) {
	r.GET("/audit-logs", can(auth.ReadAudit), a.listAuditLogs)
}

type auditLogResponse struct {
	ID          string          `json:"id"`
	ActorUserID *string         `json:"actor_user_id"`
	TokenID     *string         `json:"token_id"`
	IP          string          `json:"ip"`
	UserAgent   string          `json:"user_agent"`
	Action      string          `json:"action"`
	TargetType  string          `json:"target_type"`
	TargetID    string          `json:"target_id"`
	Changes     json.RawMessage `json:"changes"`
	RunID       string          `json:"run_id"`
	RequestID   string          `json:"request_id"`
	CreatedAt   time.Time       `json:"created_at"`
}

func toAuditLog(l *store.AuditLog) auditLogResponse {
	changes := json.RawMessage(l.Changes)
	if !json.Valid(changes) || len(changes) == 0 || changes[0] != '{' {
		changes = json.RawMessage("{}")
	}
	return auditLogResponse{
		ID: l.ID, ActorUserID: l.ActorUserID, TokenID: l.TokenID, IP: l.IP, UserAgent: l.UserAgent,
		Action: l.Action, TargetType: l.TargetType, TargetID: l.TargetID, Changes: changes,
		RunID: l.RunID, RequestID: l.RequestID, CreatedAt: l.CreatedAt,
	}
}

// auditFilter reads the list's query parameters; a malformed time is a
// 422 naming the parameter.
func auditFilter(c *gin.Context) (store.AuditFilter, error) {
	f := store.AuditFilter{
		ActorUserID: c.Query("actor"), Action: c.Query("action"),
		TargetType: c.Query("target_type"), TargetID: c.Query("target_id"),
	}
	fields := problem.Fields{}
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		v := c.Query(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fields.Add(name, "must be an RFC 3339 time such as 2006-01-02T15:04:05Z")
			continue
		}
		*dst = &t
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		fields.Add("until", "must be after since")
	}
	return f, fields.Err()
}

func (a *API) listAuditLogs(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	f, err := auditFilter(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	logs, total, err := a.Store.ListAuditLogs(c.Request.Context(), principal(c).OrgID, f, pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[auditLogResponse]{Data: make([]auditLogResponse, 0, len(logs)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range logs {
		out.Data = append(out.Data, toAuditLog(&logs[i]))
	}
	c.JSON(http.StatusOK, out)
}
