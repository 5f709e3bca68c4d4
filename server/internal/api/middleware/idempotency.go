package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/chomhq/chom/server/internal/api/respond"
	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
)

// idempotencyTTL is how long a key's response is kept for replays.
const idempotencyTTL = 24 * time.Hour

// Idempotency makes a POST carrying `Idempotency-Key` safe to retry: the
// first response is stored (sealed: it may hold a secret shown once) and
// replayed for the same key and body; a concurrent duplicate gets 409 and
// the same key with another body gets 422.
func Idempotency(st *store.Store, box *secrets.Box) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader("Idempotency-Key")
		if c.Request.Method != http.MethodPost || key == "" {
			c.Next()
			return
		}
		if len(key) > 255 || !printable(key) {
			respond.Error(c, problem.Invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters"))
			return
		}
		body, err := peekBody(c)
		if err != nil {
			respond.Error(c, TooLarge(0))
			return
		}
		sum := sha256.Sum256(append([]byte(c.Request.Method+" "+c.Request.URL.RequestURI()+"\n"), body...))
		scope := "ip:" + c.ClientIP()
		if p, ok := auth.PrincipalFrom(c.Request.Context()); ok {
			scope = "org:" + p.OrgID + ":user:" + p.UserID
		}
		now := time.Now().UTC()
		rec := &store.IdempotencyKey{
			ID: store.NewID(), Scope: scope, IdemKey: key, Method: c.Request.Method, Path: c.FullPath(),
			RequestHash: hex.EncodeToString(sum[:]), Status: "in_progress", CreatedAt: now, ExpiresAt: now.Add(idempotencyTTL),
		}
		ctx := c.Request.Context()
		existing, err := st.ClaimIdempotencyKey(ctx, rec)
		switch {
		case errors.Is(err, store.ErrConflict):
			replay(c, box, existing, rec.RequestHash)
			return
		case err != nil:
			respond.Error(c, err)
			return
		}

		capture := &capturingWriter{ResponseWriter: c.Writer}
		c.Writer = capture
		c.Next()

		status := capture.Status()
		if status >= 500 || status == http.StatusTooManyRequests {
			if err := st.ReleaseIdempotencyKey(ctx, rec.ID); err != nil {
				respond.Logger(c).WarnContext(ctx, "release idempotency key", "error", err)
			}
			return
		}
		sealed := box.Seal(capture.body.Bytes(), "idempotency/"+rec.ID)
		if err := st.CompleteIdempotencyKey(ctx, rec.ID, status, sealed); err != nil {
			respond.Logger(c).WarnContext(ctx, "store idempotent response", "error", err)
		}
	}
}

func replay(c *gin.Context, box *secrets.Box, rec *store.IdempotencyKey, requestHash string) {
	switch {
	case rec.RequestHash != requestHash:
		respond.Error(c, &problem.Error{Kind: problem.KindInvalid, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was used with a different request", Fields: map[string]string{"Idempotency-Key": "was used with a different request"}})
	case rec.Status != "done":
		respond.Error(c, problem.Conflict("idempotency_in_progress", "a request with this Idempotency-Key is still being processed"))
	default:
		body, err := box.Open(rec.ResponseBody, "idempotency/"+rec.ID)
		if err != nil {
			respond.Error(c, err)
			return
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(rec.ResponseStatus, "application/json; charset=utf-8", body)
		c.Abort()
	}
}

type capturingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *capturingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *capturingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

func printable(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
