package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerTokenRoutes(r *gin.RouterGroup) {
	r.GET("/tokens", can(auth.Read), a.listTokens)
	r.POST("/tokens", can(auth.ManageTokens), a.createToken)
	r.DELETE("/tokens/:id", can(auth.Read), a.revokeToken)
}

type createTokenRequest struct {
	Name      string     `json:"name"`
	Abilities []string   `json:"abilities"`
	ExpiresAt *timestamp `json:"expires_at"`
}

type tokenResponse struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	UserID     string     `json:"user_id"`
	Abilities  []string   `json:"abilities"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// newTokenResponse carries the plaintext, shown only in the creating response.
type newTokenResponse struct {
	tokenResponse
	Token string `json:"token"`
}

func toToken(t *store.APIToken) tokenResponse {
	return tokenResponse{
		ID: t.ID, Name: t.Name, Prefix: t.TokenPrefix, UserID: t.UserID,
		Abilities: abilityStrings(auth.ParseAbilities(t.Abilities)), ExpiresAt: t.ExpiresAt,
		LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt,
	}
}

func (a *API) listTokens(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	tokens, total, err := a.Identity.ListTokens(c.Request.Context(), principal(c), pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[tokenResponse]{Data: make([]tokenResponse, 0, len(tokens)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range tokens {
		out.Data = append(out.Data, toToken(&tokens[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) createToken(c *gin.Context) {
	var req createTokenRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	t, plaintext, err := a.Identity.CreateToken(c.Request.Context(), principal(c), identity.TokenInput{
		Name: req.Name, Abilities: req.Abilities, ExpiresAt: req.ExpiresAt.ptr(),
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, newTokenResponse{tokenResponse: toToken(t), Token: plaintext})
}

func (a *API) revokeToken(c *gin.Context) {
	if err := a.Identity.RevokeToken(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		respond.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
