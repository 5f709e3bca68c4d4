package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// TokenPrefix marks CHOM API tokens so secret scanners can recognise them.
const TokenPrefix = "chom_"

// NewSecret returns a random secret with the given prefix (for example
// TokenPrefix) and 256 bits of entropy in base32.
func NewSecret(prefix string) string {
	return prefix + strings.ToLower(rand.Text()) + strings.ToLower(rand.Text())
}

// HashSecret returns the stored form of a high-entropy secret. A fast hash
// is right here: the secret is random, so there is nothing to brute-force.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches compares a presented secret with a stored hash in constant time.
func SecretMatches(secret, storedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(storedHash)) == 1
}

// DisplayPrefix is the part of a token shown in lists to tell tokens apart.
func DisplayPrefix(token string) string {
	if len(token) <= len(TokenPrefix)+6 {
		return token
	}
	return token[:len(TokenPrefix)+6]
}
