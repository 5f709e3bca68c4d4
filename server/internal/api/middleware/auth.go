package middleware

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
)

// Authenticator resolves bearer tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
	TwoFactorRequired(ctx context.Context, p auth.Principal) (bool, error)
}

// PrincipalKey is the gin context key of the authenticated principal.
const PrincipalKey = "principal"

// RequestMeta puts the caller's address, agent and run id in the request
// context for the audit log.
func RequestMeta() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := audit.WithMeta(c.Request.Context(), audit.Meta{
			IP: c.ClientIP(), UserAgent: c.Request.UserAgent(),
			RunID: c.GetHeader("X-Chom-Run-Id"), RequestID: c.GetString(respond.RequestIDKey),
		})
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// Authenticate requires `Authorization: Bearer <token>` and binds the
// request to the token's organization. Routes under allowWithout2FA stay
// reachable when the organization demands a second factor the user lacks,
// so the user can enrol one.
func Authenticate(a Authenticator, allowWithout2FA ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader("Authorization")
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="chom"`)
			respond.Error(c, problem.Unauthorized("missing_token", "send Authorization: Bearer <token>"))
			return
		}
		p, err := a.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="chom", error="invalid_token"`)
			respond.Error(c, err)
			return
		}
		required, err := a.TwoFactorRequired(c.Request.Context(), p)
		if err != nil {
			respond.Error(c, err)
			return
		}
		if required && !hasPrefix(c.FullPath(), allowWithout2FA) {
			respond.Error(c, problem.Forbidden("two_factor_required",
				"the organization requires two-factor authentication: enrol at /api/v1/me/2fa first"))
			return
		}
		c.Set(PrincipalKey, p)
		c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
		c.Next()
	}
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// Require lets the request through only when the principal holds perm,
// through both their role and the token's abilities.
func Require(perm auth.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := auth.PrincipalFrom(c.Request.Context())
		if !ok {
			respond.Error(c, problem.Unauthorized("missing_token", "authentication required"))
			return
		}
		if !p.Role.Allows(perm) {
			respond.Error(c, problem.Forbidden("insufficient_role", "your role in this organization does not allow this"))
			return
		}
		if !p.Abilities.Has(auth.AbilityFor(perm)) {
			respond.Error(c, problem.Forbidden("insufficient_ability",
				"this token lacks the "+string(auth.AbilityFor(perm))+" ability"))
			return
		}
		c.Next()
	}
}
