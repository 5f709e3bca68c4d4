// Package validate holds the input rules shared by every API resource, each
// reporting into problem.Fields under the request's field name.
package validate

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chomhq/chom/server/internal/problem"
)

// Email checks an e-mail address and returns it lower-cased.
func Email(f problem.Fields, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		f.Add(field, "is required")
		return v
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndex(v, "@"):], ".") {
		f.Add(field, "must be a valid e-mail address")
		return v
	}
	return strings.ToLower(v)
}

// Name checks a human-readable name: 1..max printable characters, no
// control characters, trimmed.
func Name(f problem.Fields, field, v string, maxLen int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		f.Add(field, "is required")
	case !utf8.ValidString(v):
		f.Add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > maxLen:
		f.Add(field, "is too long")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		f.Add(field, "must not contain control characters")
	}
	return v
}

// Password checks a new password's length.
func Password(f problem.Fields, field, v string) {
	switch n := utf8.RuneCountInString(v); {
	case n < 10:
		f.Add(field, "must be at least 10 characters")
	case len(v) > 256:
		f.Add(field, "must be at most 256 bytes")
	}
}

// OneOf checks v is one of allowed.
func OneOf[T ~string](f problem.Fields, field string, v T, allowed []T) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	parts := make([]string, len(allowed))
	for i, a := range allowed {
		parts[i] = string(a)
	}
	f.Add(field, "must be one of "+strings.Join(parts, ", "))
}
