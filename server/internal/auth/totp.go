package auth

import (
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPKey is a new second-factor secret and the URI authenticator apps scan.
type TOTPKey struct {
	Secret string
	URI    string
}

// NewTOTP generates a TOTP secret for an account.
func NewTOTP(issuer, account string) (TOTPKey, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account})
	if err != nil {
		return TOTPKey{}, fmt.Errorf("generate totp: %w", err)
	}
	return TOTPKey{Secret: key.Secret(), URI: key.URL()}, nil
}

// ValidTOTP checks a six-digit code, allowing one step of clock skew.
func ValidTOTP(code, secret string, now time.Time) bool {
	ok, err := totp.ValidateCustom(strings.TrimSpace(code), secret, now, totp.ValidateOpts{
		Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	return err == nil && ok
}

// TOTPCode returns the current code for secret (used by tests and tooling).
func TOTPCode(secret string, now time.Time) (string, error) {
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		return "", fmt.Errorf("totp code: %w", err)
	}
	return code, nil
}

// NewRecoveryCodes returns n one-time codes formatted xxxxx-xxxxx.
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		s := strings.ToLower(NewSecret(""))
		codes[i] = s[:5] + "-" + s[5:10]
	}
	return codes
}
