package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (RFC 9106 second recommended option, lower memory).
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// ErrPasswordMismatch means a password does not match its hash.
var ErrPasswordMismatch = errors.New("password does not match")

// Hasher hashes passwords with argon2id, at most `concurrency` at a time so
// a burst of logins queues instead of exhausting CPU and memory.
type Hasher struct {
	slots chan struct{}
	// dummy is verified against when a user does not exist, so that timing
	// does not reveal which e-mails are registered.
	dummy string
}

// NewHasher returns a Hasher computing at most concurrency hashes at once.
func NewHasher(concurrency int) *Hasher {
	h := &Hasher{slots: make(chan struct{}, max(concurrency, 1))}
	h.dummy = encode(make([]byte, saltLen), argon2.IDKey([]byte("chom"), make([]byte, saltLen), argonTime, argonMemory, argonThreads, argonKeyLen))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for password hashing: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return encode(salt, argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)), nil
}

// Verify checks password against encoded; an empty encoded hash is checked
// against a dummy so the caller spends the same time either way.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	if encoded == "" {
		encoded = h.dummy
		password += "\x00never"
	}
	var t, m uint32
	var p uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("verify password: unknown hash format")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrPasswordMismatch
	}
	return nil
}

func encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
