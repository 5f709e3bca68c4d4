package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/openapi"
	"github.com/chomhq/chom/server/internal/api/respond"
)

func (a *API) openAPI(c *gin.Context) {
	doc, err := openapi.JSON()
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", doc)
}
