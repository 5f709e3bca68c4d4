// Package problem defines the errors domain code returns for the API to
// turn into a status code and the JSON error envelope. It is the one place
// that knows which kinds of failure exist.
package problem

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind classifies a failure.
type Kind int

// Kinds of failure, each mapped to one HTTP status by the API.
const (
	KindInvalid      Kind = iota + 1 // 422
	KindBadRequest                   // 400
	KindUnauthorized                 // 401
	KindForbidden                    // 403
	KindNotFound                     // 404
	KindConflict                     // 409
	KindQuota                        // 403 with the limit named
	KindUnavailable                  // 503
	KindTooLarge                     // 413
	KindRateLimited                  // 429
)

// Error is a failure meant for the API client.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Fields maps a request field (dotted path) to what is wrong with it.
	Fields map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Fields collects validation failures by field name.
type Fields map[string]string

// Add records msg for field unless the field already has a message.
func (f Fields) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns a KindInvalid error when any field failed, else nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "the request has invalid fields", Fields: f}
}

// Invalid reports one bad field.
func Invalid(field, msg string) error { return Fields{field: msg}.Err() }

// BadRequest reports a malformed request.
func BadRequest(code, format string, args ...any) error {
	return &Error{Kind: KindBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized reports missing or wrong credentials.
func Unauthorized(code, msg string) error {
	return &Error{Kind: KindUnauthorized, Code: code, Message: msg}
}

// Forbidden reports an action the caller may not take.
func Forbidden(code, msg string) error { return &Error{Kind: KindForbidden, Code: code, Message: msg} }

// NotFound reports a missing object (or one of another tenant).
func NotFound(what string) error {
	return &Error{Kind: KindNotFound, Code: "not_found", Message: what + " not found"}
}

// Conflict reports a clash with the current state.
func Conflict(code, format string, args ...any) error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Quota reports an organization limit that would be exceeded.
func Quota(limit string, max int64) error {
	return &Error{
		Kind: KindQuota, Code: "quota_exceeded",
		Message: fmt.Sprintf("organization limit %q of %d reached", limit, max),
		Fields:  map[string]string{"limit": limit},
	}
}

// As extracts a *Error from err.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}
