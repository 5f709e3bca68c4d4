// Package respond writes API responses: the one JSON error envelope and the
// one mapping from errors to HTTP status codes.
package respond

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

// RequestIDKey is the gin context key of the request id.
const RequestIDKey = "request_id"

// Envelope is the body of every error response.
type Envelope struct {
	Error Body `json:"error"`
}

// Body describes the error.
type Body struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id"`
}

var statusOf = map[problem.Kind]int{
	problem.KindInvalid:      http.StatusUnprocessableEntity,
	problem.KindBadRequest:   http.StatusBadRequest,
	problem.KindUnauthorized: http.StatusUnauthorized,
	problem.KindForbidden:    http.StatusForbidden,
	problem.KindNotFound:     http.StatusNotFound,
	problem.KindConflict:     http.StatusConflict,
	problem.KindQuota:        http.StatusForbidden,
	problem.KindUnavailable:  http.StatusServiceUnavailable,
	problem.KindTooLarge:     http.StatusRequestEntityTooLarge,
	problem.KindRateLimited:  http.StatusTooManyRequests,
}

// Error writes err as the envelope and aborts the chain. Anything that is
// not a problem.Error or a store sentinel is a 500 whose body carries only
// the request id; the cause goes to the log.
func Error(c *gin.Context, err error) {
	status, body := classify(err)
	body.RequestID = c.GetString(RequestIDKey)
	if status >= 500 {
		if !errors.Is(err, context.Canceled) {
			Logger(c).ErrorContext(c.Request.Context(), "request failed",
				slog.String("request_id", body.RequestID), slog.String("route", c.FullPath()), slog.Any("error", err))
		}
	}
	c.AbortWithStatusJSON(status, Envelope{Error: body})
}

func classify(err error) (int, Body) {
	if p, ok := problem.As(err); ok {
		return statusOf[p.Kind], Body{Code: p.Code, Message: p.Message, Fields: p.Fields}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, Body{Code: "not_found", Message: "not found"}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, Body{Code: "conflict", Message: "the request conflicts with an existing object"}
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, Body{Code: "timeout", Message: "the request timed out"}
	}
	return http.StatusInternalServerError, Body{Code: "internal_error", Message: "internal error; quote the request id when reporting it"}
}

// LoggerKey is the gin context key under which the server's logger is kept.
const LoggerKey = "logger"

// Logger returns a logger for the request, carrying its request id. It is
// made when asked for: most requests log only their access line.
func Logger(c *gin.Context) *slog.Logger {
	log := slog.Default()
	if l, ok := c.Get(LoggerKey); ok {
		if lg, ok := l.(*slog.Logger); ok {
			log = lg
		}
	}
	return log.With(slog.String("request_id", c.GetString(RequestIDKey)))
}

// List is the body of every list response.
type List[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// Pagination tells the client where a page sits.
type Pagination struct {
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}
