package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/team"
)

func (a *API) registerOrganizationRoutes(r *gin.RouterGroup) {
	r.GET("/organization", can(auth.Read), a.getOrganization)
	r.PATCH("/organization", can(auth.ManageOrganization), a.updateOrganization)
}

// updateOrganizationRequest leaves an absent (or null) field unchanged.
type updateOrganizationRequest struct {
	Name       *string `json:"name"`
	Require2FA *bool   `json:"require_2fa"`
}

func (a *API) getOrganization(c *gin.Context) {
	o, err := a.Team.Organization(c.Request.Context(), principal(c))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrganization(o))
}

func (a *API) updateOrganization(c *gin.Context) {
	var req updateOrganizationRequest
	if err := bindJSON(c, &req); err != nil {
		respond.Error(c, err)
		return
	}
	o, err := a.Team.UpdateOrganization(c.Request.Context(), principal(c), team.OrganizationUpdate{
		Name: req.Name, Require2FA: req.Require2FA,
	})
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrganization(o))
}
