package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/middleware"
	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerAuthRoutes(r *gin.RouterGroup) {
	r.POST("/auth/register", middleware.Idempotency(a.Store, a.Box), a.register)
	r.POST("/auth/login", middleware.RateLimitLogin(a.Limiter, a.Config.LoginRateLimitPerMinute), a.login)
}

func (a *API) registerMeRoutes(r *gin.RouterGroup) {
	r.GET("/me", a.me)
}

type registerRequest struct {
	Name             string `json:"name"`
	Email            string `json:"email"`
	Password         string `json:"password"`
	OrganizationName string `json:"organization_name"`
}

type loginRequest struct {
	Email          string `json:"email"`
	Password       string `json:"password"`
	TOTPCode       string `json:"totp_code"`
	RecoveryCode   string `json:"recovery_code"`
	OrganizationID string `json:"organization_id"`
}

type sessionResponse struct {
	User         userResponse         `json:"user"`
	Organization organizationResponse `json:"organization"`
	Role         string               `json:"role"`
	Token        newTokenResponse     `json:"token"`
}

type userResponse struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

type organizationResponse struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Require2FA bool      `json:"require_2fa"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toUser(u *store.User) userResponse {
	return userResponse{ID: u.ID, Name: u.Name, Email: u.Email, TOTPEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt}
}

func toOrganization(o *store.Organization) organizationResponse {
	return organizationResponse{ID: o.ID, Name: o.Name, Require2FA: o.Require2FA, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

func toSession(s *identity.Session) sessionResponse {
	return sessionResponse{
		User: toUser(s.User), Organization: toOrganization(s.Organization), Role: s.Membership.Role,
		Token: newTokenResponse{tokenResponse: toToken(s.Token), Token: s.Plaintext},
	}
}

func (a *API) register(c *gin.Context) {
	var req registerRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	s, err := a.Identity.Register(c.Request.Context(), identity.RegisterInput{
		Name: req.Name, Email: req.Email, Password: req.Password, OrganizationName: req.OrganizationName,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toSession(s))
}

func (a *API) login(c *gin.Context) {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	s, err := a.Identity.Login(c.Request.Context(), identity.LoginInput{
		Email: req.Email, Password: req.Password, TOTPCode: req.TOTPCode,
		RecoveryCode: req.RecoveryCode, OrganizationID: req.OrganizationID,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toSession(s))
}

type meResponse struct {
	User         userResponse         `json:"user"`
	Organization organizationResponse `json:"organization"`
	Role         string               `json:"role"`
	TokenID      string               `json:"token_id"`
	Abilities    []string             `json:"abilities"`
}

func (a *API) me(c *gin.Context) {
	p := principal(c)
	ctx := c.Request.Context()
	u, err := a.Store.User(ctx, p.UserID)
	if err != nil {
		respond.Error(c, err)
		return
	}
	o, err := a.Store.Organization(ctx, p.OrgID)
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, meResponse{
		User: toUser(u), Organization: toOrganization(o), Role: string(p.Role), TokenID: p.TokenID,
		Abilities: abilityStrings(p.Abilities),
	})
}

func abilityStrings(s auth.AbilitySet) []string {
	out := make([]string, 0, len(s))
	for _, a := range auth.ParseAbilities(s.String()) {
		out = append(out, string(a))
	}
	return out
}
