package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/ratelimit"
)

// Limiter decides whether a request under key may proceed.
type Limiter interface {
	Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error)
}

// RateLimitByPrincipal limits each token to perMinute requests.
func RateLimitByPrincipal(l Limiter, perMinute int) gin.HandlerFunc {
	return rateLimit(l, ratelimit.PerMinute(perMinute), func(c *gin.Context) string {
		if p, ok := auth.PrincipalFrom(c.Request.Context()); ok {
			return "tok:" + p.TokenID
		}
		return "ip:" + c.ClientIP()
	})
}

// RateLimitByIP limits unauthenticated routes per client address, with
// room for several attempts per login-limit unit.
func RateLimitByIP(l Limiter, perMinute int) gin.HandlerFunc {
	return rateLimit(l, ratelimit.PerMinute(perMinute*6), func(c *gin.Context) string { return "ip:" + c.ClientIP() })
}

// RateLimitLogin limits sign-in attempts per address and e-mail, so
// guessing one account's password is slow whatever the source.
func RateLimitLogin(l Limiter, perMinute int) gin.HandlerFunc {
	return rateLimit(l, ratelimit.PerMinute(perMinute), func(c *gin.Context) string {
		email := strings.ToLower(strings.TrimSpace(peekEmail(c)))
		sum := sha256.Sum256([]byte(email))
		return "login:" + c.ClientIP() + ":" + hex.EncodeToString(sum[:8])
	})
}

func rateLimit(l Limiter, limit ratelimit.Limit, key func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		res, err := l.Allow(c.Request.Context(), key(c), limit)
		if err != nil {
			// A limiter failure must not take the API down with it.
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(res.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
		h.Set("X-RateLimit-Reset", strconv.Itoa(seconds(res.ResetAfter)))
		if !res.Allowed {
			h.Set("Retry-After", strconv.Itoa(max(seconds(res.RetryAfter), 1)))
			respond.Error(c, &problem.Error{Kind: problem.KindRateLimited, Code: "rate_limited", Message: "too many requests; retry after the Retry-After delay"})
			return
		}
		c.Next()
	}
}

func seconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }
