package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/middleware"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

// bindJSON decodes the body into dst strictly: unknown fields, malformed
// JSON and anything but an object are 400, a value of the wrong type is
// 422 naming the field.
func bindJSON(c *gin.Context, dst any) error {
	body := bufio.NewReader(c.Request.Body)
	// null, a list or a string would decode into the zero request and pass
	// for an empty object.
	if b, ok := firstByte(body); ok && b != '{' {
		return problem.BadRequest("malformed_json", "the body must be a JSON object")
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return problem.BadRequest("malformed_json", "the body must hold exactly one JSON object")
	}
	return nil
}

// firstByte peeks at the first byte of r that is not JSON whitespace; ok is
// false when r holds nothing else or fails, which decoding then reports.
func firstByte(r *bufio.Reader) (byte, bool) {
	for {
		b, err := r.Peek(1)
		if err != nil {
			return 0, false
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			_, _ = r.ReadByte()
		default:
			return b[0], true
		}
	}
}

// timestamp is an RFC 3339 date-time in a request body. A value that is
// not one is a wrong type, so that the error names its field.
type timestamp struct{ time.Time }

func (t *timestamp) UnmarshalJSON(b []byte) error {
	if err := t.Time.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[time.Time]()}
	}
	return nil
}

// ptr returns the time of an optional timestamp.
func (t *timestamp) ptr() *time.Time {
	if t == nil {
		return nil
	}
	return &t.Time
}

func decodeError(err error) error {
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &maxErr):
		return middleware.TooLarge(maxErr.Limit)
	case errors.Is(err, io.EOF):
		return problem.BadRequest("empty_body", "the request body is empty; send a JSON object")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return problem.BadRequest("malformed_json", "the body must be a JSON object")
		}
		if typeErr.Type == reflect.TypeFor[time.Time]() {
			return problem.Invalid(field, "must be an RFC 3339 date-time")
		}
		return problem.Invalid(field, "must be of type "+jsonType(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.BadRequest("malformed_json", "the body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &problem.Error{Kind: problem.KindBadRequest, Code: "unknown_field",
			Message: "the body has a field this endpoint does not accept", Fields: map[string]string{field: "is not a known field"}}
	}
	return problem.BadRequest("malformed_json", "the body could not be decoded")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	default:
		return "number"
	}
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

// page reads ?limit= and ?offset=.
func page(c *gin.Context) (store.Page, error) {
	p := store.Page{Limit: defaultLimit}
	f := problem.Fields{}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			f.Add("limit", "must be an integer from 1 to "+strconv.Itoa(maxLimit))
		}
		p.Limit = n
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			f.Add("offset", "must be a non-negative integer")
		}
		p.Offset = n
	}
	return p, f.Err()
}

// principal returns the authenticated caller; routes behind Authenticate always have one.
func principal(c *gin.Context) auth.Principal {
	p, _ := auth.PrincipalFrom(c.Request.Context())
	return p
}
