package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/usage"
)

func (a *API) registerUsageRoutes(r *gin.RouterGroup) {
	r.GET("/usage", can(auth.Read), a.getUsage)
}

type usageResponse struct {
	Sites        quantityResponse `json:"sites"`
	VPS          quantityResponse `json:"vps"`
	Backups      quantityResponse `json:"backups"`
	StorageBytes quantityResponse `json:"storage_bytes"`
}

type quantityResponse struct {
	Used  int64 `json:"used"`
	Limit int64 `json:"limit"`
}

func toQuantity(q usage.Quantity) quantityResponse {
	return quantityResponse{Used: q.Used, Limit: q.Limit}
}

func (a *API) getUsage(c *gin.Context) {
	u, err := a.Usage.Usage(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, usageResponse{
		Sites: toQuantity(u.Sites), VPS: toQuantity(u.VPS), Backups: toQuantity(u.Backups), StorageBytes: toQuantity(u.StorageBytes),
	})
}
