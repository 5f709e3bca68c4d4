// Package api is the control plane's REST API: the gin router, one file per
// resource with its request and response types, and the OpenAPI document.
// Handlers stay thin: decode, call a domain service, encode.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chomhq/chom/server/internal/api/middleware"
	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/backup"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/site"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/team"
	"github.com/chomhq/chom/server/internal/usage"
	"github.com/chomhq/chom/server/internal/vps"
)

// Deps is what the API needs from the rest of the control plane.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Box      *secrets.Box
	Identity *identity.Service
	Team     *team.Service
	Jobs     *jobs.Queue
	VPS      *vps.Service
	Sites    *site.Service
	Backups  *backup.Service
	Usage    *usage.Service
	Limiter  middleware.Limiter
	Registry *prometheus.Registry
	Log      *slog.Logger
}

// API holds the handlers' dependencies.
type API struct {
	Deps
}

// New builds the router with every middleware and route.
func New(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	a := &API{Deps: d}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(d.Config.TrustedProxies); err != nil {
		d.Log.Warn("ignoring trusted proxies", slog.Any("error", err))
	}
	r.Use(
		middleware.RequestID(),
		middleware.Recovery(d.Log),
		middleware.SecurityHeaders(),
		middleware.CORS(d.Config.CORSOrigins),
		middleware.Metrics(d.Registry),
		middleware.Logger(d.Log),
		middleware.BodyLimit(d.Config.MaxBodyBytes),
		middleware.RequestMeta(),
	)
	r.NoRoute(func(c *gin.Context) { respond.Error(c, problem.NotFound("route")) })
	r.NoMethod(func(c *gin.Context) {
		respond.Error(c, &problem.Error{Kind: problem.KindBadRequest, Code: "method_not_allowed", Message: "method not allowed on this route"})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))

	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", a.openAPI)

	public := v1.Group("", middleware.RateLimitByIP(d.Limiter, d.Config.LoginRateLimitPerMinute))
	a.registerAuthRoutes(public)
	a.registerInvitationRoutes(public)

	authed := v1.Group("",
		middleware.Authenticate(d.Identity, "/api/v1/me"),
		middleware.RateLimitByPrincipal(d.Limiter, d.Config.RateLimitPerMinute),
		middleware.Idempotency(d.Store, d.Box),
	)
	a.registerMeRoutes(authed)
	a.registerTokenRoutes(authed)
	a.registerTeamRoutes(authed)
	a.registerOrganizationRoutes(authed)
	a.registerTwoFactorRoutes(authed)
	a.registerAuditRoutes(authed)
	a.registerOperationRoutes(authed)
	a.registerVPSRoutes(authed)
	a.registerSiteRoutes(authed)
	a.registerBackupRoutes(authed)
	a.registerUsageRoutes(authed)
	a.registerDashboardRoutes(authed)
	return r
}

// can wraps middleware.Require for route tables.
func can(p auth.Permission) gin.HandlerFunc { return middleware.Require(p) }

func (a *API) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := a.Store.Ping(ctx); err != nil {
		a.Log.WarnContext(ctx, "not ready", slog.Any("error", err))
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": gin.H{"database": "down"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": gin.H{"database": "up"}})
}
