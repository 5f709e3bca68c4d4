package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/site"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerSiteRoutes(r *gin.RouterGroup) {
	r.GET("/sites", can(auth.Read), a.listSites)
	r.POST("/sites", can(auth.ManageSites), a.createSite)
	r.GET("/sites/:id", can(auth.Read), a.getSite)
	r.PATCH("/sites/:id", can(auth.ManageSites), a.updateSite)
	r.DELETE("/sites/:id", can(auth.ManageSites), a.deleteSite)
	r.POST("/sites/:id/suspend", can(auth.ManageSites), a.suspendSite)
	r.POST("/sites/:id/resume", can(auth.ManageSites), a.resumeSite)
	r.GET("/sites/:id/certificate", can(auth.Read), a.getSiteCertificate)
	r.PUT("/sites/:id/certificate", can(auth.ManageSites), a.uploadSiteCertificate)
	r.POST("/sites/:id/certificate/renew", can(auth.ManageSites), a.renewSiteCertificate)
	r.GET("/sites/:id/credentials", can(auth.ReadSecrets), a.getSiteCredentials)
}

// createSiteRequest carries the environment, which is never sent back.
type createSiteRequest struct {
	Domain        string            `json:"domain"`
	Aliases       []string          `json:"aliases"`
	Type          string            `json:"type"`
	VPSID         *string           `json:"vps_id"`
	PHPVersion    *string           `json:"php_version"`
	GitRepository *string           `json:"git_repository"`
	GitBranch     *string           `json:"git_branch"`
	Environment   map[string]string `json:"environment"`
	HTTPS         *bool             `json:"https"`
}

// updateSiteRequest leaves an absent (or null) field unchanged.
type updateSiteRequest struct {
	Domain        *string            `json:"domain"`
	Aliases       *[]string          `json:"aliases"`
	Type          *string            `json:"type"`
	VPSID         *string            `json:"vps_id"`
	PHPVersion    *string            `json:"php_version"`
	GitRepository *string            `json:"git_repository"`
	GitBranch     *string            `json:"git_branch"`
	Environment   *map[string]string `json:"environment"`
	HTTPS         *bool              `json:"https"`
}

type uploadCertificateRequest struct {
	CertPEM string `json:"cert_pem"`
	KeyPEM  string `json:"key_pem"`
}

// siteResponse is the Site schema: every field a create accepts except
// the write-only environment, and what CHOM computed.
type siteResponse struct {
	ID            string             `json:"id"`
	Domain        string             `json:"domain"`
	Aliases       []string           `json:"aliases"`
	Type          string             `json:"type"`
	VPSID         string             `json:"vps_id"`
	PHPVersion    *string            `json:"php_version"`
	GitRepository *string            `json:"git_repository"`
	GitBranch     *string            `json:"git_branch"`
	HTTPS         bool               `json:"https"`
	Status        string             `json:"status"`
	DocumentRoot  string             `json:"document_root"`
	SystemUser    string             `json:"system_user"`
	DatabaseName  *string            `json:"database_name"`
	DatabaseUser  *string            `json:"database_user"`
	Certificate   certificateSummary `json:"certificate"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
}

type certificateSummary struct {
	Status   string     `json:"status"`
	Issuer   *string    `json:"issuer"`
	NotAfter *time.Time `json:"not_after"`
}

// siteOperationResponse answers the requests that start an operation; a
// dry run has none.
type siteOperationResponse struct {
	Site      siteResponse       `json:"site"`
	Operation *operationResponse `json:"operation"`
}

type certificateResponse struct {
	Status    string     `json:"status"`
	Source    *string    `json:"source"`
	Issuer    *string    `json:"issuer"`
	Domains   []string   `json:"domains"`
	NotBefore *time.Time `json:"not_before"`
	NotAfter  *time.Time `json:"not_after"`
	Error     *string    `json:"error"`
}

type credentialsResponse struct {
	DatabaseName     string `json:"database_name"`
	DatabaseUser     string `json:"database_user"`
	DatabasePassword string `json:"database_password"`
	DatabaseHost     string `json:"database_host"`
}

func toSite(s *store.Site) siteResponse {
	c := site.CertificateOf(s, time.Now())
	out := siteResponse{
		ID: s.ID, Domain: s.Domain, Aliases: s.Aliases, Type: s.Type, VPSID: s.VPSID,
		PHPVersion: nonEmpty(s.PHPVersion), GitRepository: nonEmpty(s.GitRepository), GitBranch: nonEmpty(s.GitBranch),
		HTTPS: s.HTTPS, Status: s.Status, DocumentRoot: site.DocumentRoot(s), SystemUser: s.SystemUser,
		DatabaseName: nonEmpty(s.DatabaseName), DatabaseUser: nonEmpty(s.DatabaseUser),
		Certificate: certificateSummary{Status: c.Status, Issuer: nonEmpty(c.Issuer), NotAfter: c.NotAfter},
		CreatedAt:   s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if out.Aliases == nil {
		out.Aliases = []string{}
	}
	return out
}

func toSiteOperation(s *store.Site, op *store.Operation) siteOperationResponse {
	out := siteOperationResponse{Site: toSite(s)}
	if op != nil {
		o := toOperation(op)
		out.Operation = &o
	}
	return out
}

// respondSiteOperation answers 202 when an operation started, 200 for a
// dry run.
func respondSiteOperation(c *gin.Context, s *store.Site, op *store.Operation) {
	status := http.StatusAccepted
	if op == nil {
		status = http.StatusOK
	}
	c.JSON(status, toSiteOperation(s, op))
}

// dryRun reads ?dry_run=.
func dryRun(c *gin.Context) (bool, error) {
	v := c.Query("dry_run")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, problem.Invalid("dry_run", "must be true or false")
	}
	return b, nil
}

func (a *API) listSites(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	f := store.SiteFilter{Status: c.Query("status"), Type: c.Query("type"), VPSID: c.Query("vps_id"), Domain: c.Query("domain")}
	sites, total, err := a.Sites.List(c.Request.Context(), principal(c).OrgID, f, pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[siteResponse]{Data: make([]siteResponse, 0, len(sites)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range sites {
		out.Data = append(out.Data, toSite(&sites[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) createSite(c *gin.Context) {
	dry, err := dryRun(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	var req createSiteRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	s, op, err := a.Sites.Create(c.Request.Context(), principal(c).OrgID, site.CreateInput{
		Domain: req.Domain, Aliases: req.Aliases, Type: req.Type, VPSID: deref(req.VPSID),
		PHPVersion: deref(req.PHPVersion), GitRepository: deref(req.GitRepository), GitBranch: deref(req.GitBranch),
		Environment: req.Environment, HTTPS: req.HTTPS != nil && *req.HTTPS,
	}, dry)
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) getSite(c *gin.Context) {
	s, err := a.Sites.Get(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toSite(s))
}

func (a *API) updateSite(c *gin.Context) {
	dry, err := dryRun(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	// Looked up before the body is read: another tenant's id is 404
	// whatever the body holds.
	if _, err := a.Sites.Get(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	var req updateSiteRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	s, op, err := a.Sites.Update(c.Request.Context(), principal(c).OrgID, c.Param("id"), site.UpdateInput{
		Domain: req.Domain, Type: req.Type, VPSID: req.VPSID, Aliases: req.Aliases, PHPVersion: req.PHPVersion,
		GitRepository: req.GitRepository, GitBranch: req.GitBranch, Environment: req.Environment, HTTPS: req.HTTPS,
	}, dry)
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) deleteSite(c *gin.Context) {
	s, op, err := a.Sites.Delete(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) suspendSite(c *gin.Context) {
	s, op, err := a.Sites.Suspend(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) resumeSite(c *gin.Context) {
	s, op, err := a.Sites.Resume(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) getSiteCertificate(c *gin.Context) {
	_, cert, err := a.Sites.Certificate(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	domains := cert.Domains
	if domains == nil {
		domains = []string{}
	}
	c.JSON(http.StatusOK, certificateResponse{
		Status: cert.Status, Source: nonEmpty(cert.Source), Issuer: nonEmpty(cert.Issuer), Domains: domains,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, Error: nonEmpty(cert.Error),
	})
}

func (a *API) uploadSiteCertificate(c *gin.Context) {
	if _, err := a.Sites.Get(c.Request.Context(), principal(c).OrgID, c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	var req uploadCertificateRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	s, op, err := a.Sites.UploadCertificate(c.Request.Context(), principal(c).OrgID, c.Param("id"), []byte(req.CertPEM), []byte(req.KeyPEM))
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) renewSiteCertificate(c *gin.Context) {
	s, op, err := a.Sites.RenewCertificate(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	respondSiteOperation(c, s, op)
}

func (a *API) getSiteCredentials(c *gin.Context) {
	cr, err := a.Sites.Credentials(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	// Secrets must not linger in caches between the client and us.
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, credentialsResponse{
		DatabaseName: cr.DatabaseName, DatabaseUser: cr.DatabaseUser, DatabasePassword: cr.DatabasePassword, DatabaseHost: cr.DatabaseHost,
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
