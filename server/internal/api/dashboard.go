package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerDashboardRoutes(r *gin.RouterGroup) {
	r.GET("/dashboard", can(auth.Read), a.getDashboard)
}

type dashboardResponse struct {
	Sites               statusCounts         `json:"sites"`
	VPS                 statusCounts         `json:"vps"`
	RecentOperations    []operationResponse  `json:"recent_operations"`
	FailingHealthChecks []failingHealthCheck `json:"failing_health_checks"`
}

type statusCounts struct {
	Total    int64            `json:"total"`
	ByStatus map[string]int64 `json:"by_status"`
}

type failingHealthCheck struct {
	VPSID         string     `json:"vps_id"`
	Name          string     `json:"name"`
	Status        string     `json:"status"`
	CheckedAt     *time.Time `json:"checked_at"`
	Reachable     *bool      `json:"reachable"`
	NginxRunning  *bool      `json:"nginx_running"`
	PHPFPMRunning *bool      `json:"php_fpm_running"`
	Error         *string    `json:"error"`
}

// toStatusCounts lists every status, counted or not, so a client finds
// each key.
func toStatusCounts(counts map[string]int64, statuses []string) statusCounts {
	out := statusCounts{ByStatus: make(map[string]int64, len(statuses))}
	for _, s := range statuses {
		out.ByStatus[s] = counts[s]
		out.Total += counts[s]
	}
	return out
}

func toFailingHealthCheck(v *store.VPS) failingHealthCheck {
	out := failingHealthCheck{VPSID: v.ID, Name: v.Name, Status: v.Status}
	if h := v.LastHealth; h != nil {
		out.CheckedAt, out.Reachable, out.NginxRunning, out.PHPFPMRunning = &h.CheckedAt, &h.Reachable, &h.NginxRunning, &h.PHPFPMRunning
		out.Error = nonEmpty(h.Error)
	}
	return out
}

func (a *API) getDashboard(c *gin.Context) {
	d, err := a.Usage.Dashboard(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := dashboardResponse{
		Sites:               toStatusCounts(d.SitesByStatus, store.SiteStatuses),
		VPS:                 toStatusCounts(d.VPSByStatus, store.VPSStatuses),
		RecentOperations:    make([]operationResponse, 0, len(d.RecentOperations)),
		FailingHealthChecks: make([]failingHealthCheck, 0, len(d.FailingHealth)),
	}
	for i := range d.RecentOperations {
		out.RecentOperations = append(out.RecentOperations, toOperation(&d.RecentOperations[i]))
	}
	for i := range d.FailingHealth {
		out.FailingHealthChecks = append(out.FailingHealthChecks, toFailingHealthCheck(&d.FailingHealth[i]))
	}
	c.JSON(http.StatusOK, out)
}
