package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/store"
)

func (a *API) registerOperationRoutes(r *gin.RouterGroup) {
	r.GET("/operations", can(auth.Read), a.listOperations)
	r.GET("/operations/:id", can(auth.Read), a.getOperation)
}

// operationResponse is the Operation schema; endpoints that start work
// answer 202 with it under "operation".
type operationResponse struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	TargetType string            `json:"target_type"`
	TargetID   string            `json:"target_id"`
	Status     string            `json:"status"`
	Progress   operationProgress `json:"progress"`
	Log        string            `json:"log"`
	Error      *string           `json:"error"`
	Attempts   int               `json:"attempts"`
	CreatedAt  time.Time         `json:"created_at"`
	StartedAt  *time.Time        `json:"started_at"`
	FinishedAt *time.Time        `json:"finished_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

type operationProgress struct {
	Step      int    `json:"step"`
	StepCount int    `json:"step_count"`
	StepName  string `json:"step_name"`
}

func toOperation(op *store.Operation) operationResponse {
	out := operationResponse{
		ID: op.ID, Kind: op.Kind, TargetType: op.TargetType, TargetID: op.TargetID, Status: op.Status,
		Progress: operationProgress{Step: op.Step, StepCount: op.StepCount, StepName: op.StepName},
		Log:      op.Log, Attempts: op.Attempts,
		CreatedAt: op.CreatedAt, StartedAt: op.StartedAt, FinishedAt: op.FinishedAt, UpdatedAt: op.UpdatedAt,
	}
	if op.Error != "" {
		out.Error = &op.Error
	}
	return out
}

func (a *API) getOperation(c *gin.Context) {
	op, err := a.Jobs.Operation(c.Request.Context(), principal(c).OrgID, c.Param("id"))
	if err != nil {
		respond.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOperation(op))
}

func (a *API) listOperations(c *gin.Context) {
	pg, err := page(c)
	if err != nil {
		respond.Error(c, err)
		return
	}
	f := store.OperationFilter{TargetType: c.Query("target_type"), TargetID: c.Query("target_id"), Status: c.Query("status")}
	ops, total, err := a.Jobs.ListOperations(c.Request.Context(), principal(c).OrgID, f, pg)
	if err != nil {
		respond.Error(c, err)
		return
	}
	out := respond.List[operationResponse]{Data: make([]operationResponse, 0, len(ops)), Pagination: respond.Pagination{Total: total, Limit: pg.Limit, Offset: pg.Offset}}
	for i := range ops {
		out.Data = append(out.Data, toOperation(&ops[i]))
	}
	c.JSON(http.StatusOK, out)
}
