// Package audit records every mutation with who made it, from where and
// what changed, with secrets removed.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/store"
)

// Meta describes the request a mutation came from.
type Meta struct {
	IP        string
	UserAgent string
	RunID     string
	RequestID string
}

type metaKey struct{}

// WithMeta returns ctx carrying the request's metadata.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the request metadata in ctx.
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// Event is one mutation to record.
type Event struct {
	// OrgID defaults to the principal's organization.
	OrgID      string
	Action     string
	TargetType string
	TargetID   string
	Changes    map[string]any
	// ActorUserID overrides the principal (for register and invitation acceptance).
	ActorUserID string
	// TokenID overrides the principal's token (for the token a sign-in issues).
	TokenID string
}

// Record writes e through st, which should be the transaction of the mutation.
func Record(ctx context.Context, st *store.Store, e Event) error {
	p, _ := auth.PrincipalFrom(ctx)
	meta := MetaFrom(ctx)
	entry := store.AuditLog{
		ID:             store.NewID(),
		OrganizationID: first(e.OrgID, p.OrgID),
		IP:             meta.IP,
		UserAgent:      truncate(meta.UserAgent, 512),
		Action:         e.Action,
		TargetType:     e.TargetType,
		TargetID:       e.TargetID,
		RunID:          truncate(meta.RunID, 128),
		RequestID:      meta.RequestID,
		Changes:        "{}",
	}
	if actor := first(e.ActorUserID, p.UserID); actor != "" {
		entry.ActorUserID = &actor
	}
	if token := first(e.TokenID, p.TokenID); token != "" {
		entry.TokenID = &token
	}
	if len(e.Changes) > 0 {
		b, err := json.Marshal(Redact(e.Changes))
		if err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
		entry.Changes = string(b)
	}
	if err := st.CreateAuditLog(ctx, &entry); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// secretWords mark a field whose value must never be written to the log.
var secretWords = []string{"password", "secret", "private_key", "token", "key_pem", "certificate_key", "env", "credential", "code"}

// Redact returns a copy of changes with secret-looking fields replaced.
func Redact(changes map[string]any) map[string]any {
	out := make(map[string]any, len(changes))
	for k, v := range changes {
		if isSecretField(k) {
			out[k] = "[REDACTED]"
			continue
		}
		if nested, ok := v.(map[string]any); ok {
			out[k] = Redact(nested)
			continue
		}
		out[k] = v
	}
	return out
}

func isSecretField(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
