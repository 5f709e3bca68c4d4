package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/vps"
)

func (a *API) registerVPSRoutes(r *gin.RouterGroup) {
	r.GET("/vps", can(auth.Read), a.listVPS)
	r.POST("/vps", can(auth.ManageVPS), a.createVPS)
	r.GET("/vps/:id", can(auth.Read), a.getVPS)
	r.PATCH("/vps/:id", can(auth.ManageVPS), a.updateVPS)
	r.DELETE("/vps/:id", can(auth.ManageVPS), a.deleteVPS)
	r.POST("/vps/:id/health", can(auth.ManageVPS), a.checkVPSHealth)
}

// createVPSRequest carries the private key, which is never sent back.
type createVPSRequest struct {
	Name                       string            `json:"name"`
	Host                       string            `json:"host"`
	Port                       *int              `json:"port"`
	SSHUser                    *string           `json:"ssh_user"`
	SSHPrivateKey              string            `json:"ssh_private_key"`
	ExpectedHostKeyFingerprint *string           `json:"expected_host_key_fingerprint"`
	Labels                     map[string]string `json:"labels"`
	Capacity                   *int              `json:"capacity"`
}

type updateVPSRequest struct {
	Name                       *string           `json:"name"`
	Host                       *string           `json:"host"`
	Port                       *int              `json:"port"`
	SSHUser                    *string           `json:"ssh_user"`
	SSHPrivateKey              *string           `json:"ssh_private_key"`
	ExpectedHostKeyFingerprint *string           `json:"expected_host_key_fingerprint"`
	Labels                     map[string]string `json:"labels"`
	Capacity                   *int              `json:"capacity"`
}

// vpsResponse is the VPS schema. Every setting a create accepts is
// returned, except the private key.
type vpsResponse struct {
	ID                         string            `json:"id"`
	Name                       string            `json:"name"`
	Host                       string            `json:"host"`
	Port                       int               `json:"port"`
	SSHUser                    string            `json:"ssh_user"`
	ExpectedHostKeyFingerprint *string           `json:"expected_host_key_fingerprint"`
	Labels                     map[string]string `json:"labels"`
	Capacity                   int               `json:"capacity"`
	Status                     string            `json:"status"`
	HostKeyFingerprint         *string           `json:"host_key_fingerprint"`
	HostPublicKey              *string           `json:"host_public_key"`
	OS                         *string           `json:"os"`
	CPUCount                   *int              `json:"cpu_count"`
	MemoryBytes                *int64            `json:"memory_bytes"`
	DiskBytes                  *int64            `json:"disk_bytes"`
	PHPVersions                []string          `json:"php_versions"`
	LastHealth                 *vpsHealth        `json:"last_health"`
	SitesAllocated             int               `json:"sites_allocated"`
	CreatedAt                  time.Time         `json:"created_at"`
	UpdatedAt                  time.Time         `json:"updated_at"`
}

type vpsHealth struct {
	CheckedAt        time.Time `json:"checked_at"`
	Reachable        bool      `json:"reachable"`
	Load1            float64   `json:"load1"`
	MemoryUsedBytes  int64     `json:"memory_used_bytes"`
	MemoryTotalBytes int64     `json:"memory_total_bytes"`
	DiskUsedBytes    int64     `json:"disk_used_bytes"`
	DiskTotalBytes   int64     `json:"disk_total_bytes"`
	NginxRunning     bool      `json:"nginx_running"`
	PHPFPMRunning    bool      `json:"php_fpm_running"`
	Error            *string   `json:"error"`
}

// vpsOperationResponse answers the requests that may start an operation.
type vpsOperationResponse struct {
	VPS       vpsResponse        `json:"vps"`
	Operation *operationResponse `json:"operation"`
}

func toVPS(v *store.VPS) vpsResponse {
	out := vpsResponse{
		ID: v.ID, Name: v.Name, Host: v.Host, Port: v.Port, SSHUser: v.SSHUser,
		ExpectedHostKeyFingerprint: nonEmpty(v.ExpectedHostKeyFingerprint),
		Labels:                     v.Labels, Capacity: v.Capacity, Status: v.Status,
		HostKeyFingerprint: nonEmpty(v.HostKeyFingerprint), HostPublicKey: nonEmpty(v.HostPublicKey),
		OS: nonEmpty(v.OS), PHPVersions: v.PHPVersions, SitesAllocated: v.SitesAllocated,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.PHPVersions == nil {
		out.PHPVersions = []string{}
	}
	// Facts are unknown (null) until the server has been inspected.
	if v.CPUCount > 0 {
		out.CPUCount, out.MemoryBytes, out.DiskBytes = &v.CPUCount, &v.MemoryBytes, &v.DiskBytes
	}
	if h := v.LastHealth; h != nil {
		out.LastHealth = &vpsHealth{
			CheckedAt: h.CheckedAt, Reachable: h.Reachable, Load1: h.Load1,
			MemoryUsedBytes: h.MemoryUsedBytes, MemoryTotalBytes: h.MemoryTotalBytes,
			DiskUsedBytes: h.DiskUsedBytes, DiskTotalBytes: h.DiskTotalBytes,
			NginxRunning: h.NginxRunning, PHPFPMRunning: h.PHPFPMRunning, Error: nonEmpty(h.Error),
		}
	}
	return out
}

func toVPSOperation(v *store.VPS, op *store.Operation) vpsOperationResponse {
	out := vpsOperationResponse{VPS: toVPS(v)}
	if op != nil {
		o := toOperation(op)
		out.Operation = &o
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) listVPS(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	list, total, err := a.VPS.List(c.Request.Context(), principal(c).OrgID, store.VPSFilter{Status: c.Query("status"), Name: c.Query("name")}, pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[vpsResponse]{Data: make([]vpsResponse, 0, len(list)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range list {
		out.Data = append(out.Data, toVPS(&list[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) createVPS(c *gin.Context) {
	var req createVPSRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	v, op, err := a.VPS.Create(c.Request.Context(), principal(c).OrgID, vps.CreateInput{
		Name: req.Name, Host: req.Host, Port: req.Port, SSHUser: req.SSHUser, SSHPrivateKey: req.SSHPrivateKey,
		ExpectedHostKeyFingerprint: req.ExpectedHostKeyFingerprint, Labels: req.Labels, Capacity: req.Capacity,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toVPSOperation(v, op))
}

func (a *API) getVPS(c *gin.Context) {
	v, err := a.VPS.Get(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toVPS(v))
}

func (a *API) updateVPS(c *gin.Context) {
	// The VPS is looked up before the body is read: another tenant's id is
	// 404 whatever the body holds.
	if _, err := a.VPS.Get(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	var req updateVPSRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	v, op, err := a.VPS.Update(c.Request.Context(), principal(c).OrgID, c.Param("id"), vps.UpdateInput{
		Name: req.Name, Host: req.Host, Port: req.Port, SSHUser: req.SSHUser, SSHPrivateKey: req.SSHPrivateKey,
		ExpectedHostKeyFingerprint: req.ExpectedHostKeyFingerprint, Labels: req.Labels, Capacity: req.Capacity,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	status := http.StatusOK
	if op != nil {
		status = http.StatusAccepted
	}
	c.JSON(status, toVPSOperation(v, op))
}

func (a *API) deleteVPS(c *gin.Context) {
	force := false
	if v := c.Query("force"); v != "" {
		var err error
		if force, err = strconv.ParseBool(v); err != nil {
			// Another tenant's id stays 404, whatever the query holds.
			if _, err := a.VPS.Get(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
				respond.Error(c, err)
				return
			}
			respond.Error(c, problem.Invalid("force", "must be true or false"))
			return
		}
	}
	if err := a.VPS.Delete(c.Request.Context(), principal(c).OrgID, c.Param("id"), force); err != nil {
		respond.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) checkVPSHealth(c *gin.Context) {
	v, err := a.VPS.CheckHealth(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toVPS(v))
}
