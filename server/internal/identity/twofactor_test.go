package identity

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// newTestService returns a service over a fresh SQLite database whose
// clock the test controls.
func newTestService(t *testing.T) (*Service, *time.Time) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := storetest.Open(t, store.SQLite)
	box, err := secrets.New(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := New(st, auth.NewHasher(1), box, config.Limits{Sites: 1, VPS: 1, Backups: 1, StorageBytes: 1}, time.Hour, log)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	return s, &now
}

func register(t *testing.T, s *Service) (auth.Principal, string) {
	t.Helper()
	const password = "correct horse battery"
	sess, err := s.Register(context.Background(), RegisterInput{
		Name: "Ada", Email: "ada@example.com", Password: password, OrganizationName: "Acme",
	})
	if err != nil {
		t.Fatal(err)
	}
	return auth.Principal{
		UserID: sess.User.ID, OrgID: sess.Organization.ID, TokenID: sess.Token.ID,
		Role: auth.RoleOwner, Abilities: auth.Abilities,
	}, password
}

func problemCode(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Code
	}
	return ""
}

func problemField(err error, field string) string {
	if p, ok := problem.As(err); ok {
		return p.Fields[field]
	}
	return ""
}

func TestTwoFactorLifecycle(t *testing.T) {
	ctx := context.Background()
	s, now := newTestService(t)
	p, password := register(t, s)
	pctx := auth.WithPrincipal(ctx, p)

	enr, err := s.EnrollTOTP(pctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if enr.Secret == "" || !strings.HasPrefix(enr.URI, "otpauth://totp/") || !strings.Contains(enr.URI, "secret="+enr.Secret) {
		t.Fatalf("enrollment = %+v", enr)
	}
	u, err := s.store.User(ctx, p.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if u.TOTPEnabled || u.TOTPSecret == nil || strings.Contains(*u.TOTPSecret, enr.Secret) {
		t.Fatalf("after enrol: enabled=%v, stored secret must be sealed", u.TOTPEnabled)
	}

	// A code from another time window is refused and turns nothing on.
	stale, _ := auth.TOTPCode(enr.Secret, now.Add(-5*time.Minute))
	if _, err := s.ConfirmTOTP(pctx, p, stale); problemField(err, "code") == "" {
		t.Fatalf("confirm with a stale code: %v", err)
	}
	code, _ := auth.TOTPCode(enr.Secret, *now)
	codes, err := s.ConfirmTOTP(pctx, p, code)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != recoveryCodeCount {
		t.Fatalf("got %d recovery codes", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("bad or repeated recovery code %q", c)
		}
		seen[c] = true
	}
	if n, _ := s.store.CountRecoveryCodes(ctx, p.UserID); n != recoveryCodeCount {
		t.Fatalf("stored %d recovery codes", n)
	}

	if _, err := s.EnrollTOTP(pctx, p); !errors.Is(err, errTOTPEnabled) {
		t.Fatalf("enrol while enabled: %v", err)
	}
	if _, err := s.ConfirmTOTP(pctx, p, code); !errors.Is(err, errTOTPEnabled) {
		t.Fatalf("confirm while enabled: %v", err)
	}

	// Sign-in now needs the second factor.
	if _, err := s.Login(ctx, LoginInput{Email: "ada@example.com", Password: password}); problemCode(err) != "totp_required" {
		t.Fatalf("login without code: %v", err)
	}
	if _, err := s.Login(ctx, LoginInput{Email: "ada@example.com", Password: password, RecoveryCode: codes[0]}); err != nil {
		t.Fatalf("login with recovery code: %v", err)
	}

	// Regenerating needs a code and invalidates the old recovery codes.
	if _, err := s.RegenerateRecoveryCodes(pctx, p, wrongCode(t, enr.Secret, *now)); problemField(err, "code") == "" {
		t.Fatalf("regenerate with a wrong code: %v", err)
	}
	fresh, err := s.RegenerateRecoveryCodes(pctx, p, codes[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, LoginInput{Email: "ada@example.com", Password: password, RecoveryCode: codes[2]}); problemCode(err) != "invalid_recovery_code" {
		t.Fatalf("old recovery code after regenerating: %v", err)
	}

	// Disabling needs the password and a code; a failed attempt spends nothing.
	if err := s.DisableTOTP(pctx, p, "wrong password!", fresh[0]); problemField(err, "password") == "" {
		t.Fatalf("disable with a wrong password: %v", err)
	}
	if err := s.DisableTOTP(pctx, p, password, "abcde-fghij"); problemField(err, "code") == "" {
		t.Fatalf("disable with an unknown recovery code: %v", err)
	}
	if n, _ := s.store.CountRecoveryCodes(ctx, p.UserID); n != recoveryCodeCount {
		t.Fatalf("failed attempts spent codes: %d left", n)
	}
	if err := s.DisableTOTP(pctx, p, password, fresh[0]); err != nil {
		t.Fatal(err)
	}
	u, _ = s.store.User(ctx, p.UserID)
	if u.TOTPEnabled || u.TOTPSecret != nil {
		t.Fatalf("after disable: enabled=%v secret=%v", u.TOTPEnabled, u.TOTPSecret)
	}
	if n, _ := s.store.CountRecoveryCodes(ctx, p.UserID); n != 0 {
		t.Fatalf("%d recovery codes left after disable", n)
	}
	if _, err := s.Login(ctx, LoginInput{Email: "ada@example.com", Password: password}); err != nil {
		t.Fatalf("login after disable: %v", err)
	}
	if err := s.DisableTOTP(pctx, p, password, "123456"); !errors.Is(err, errTOTPNotEnabled) {
		t.Fatalf("disable twice: %v", err)
	}
}

// wrongCode returns six digits that are not valid for secret around now.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !auth.ValidTOTP(c, secret, now) {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestDisableRefusedWhenOrganizationRequires2FA(t *testing.T) {
	ctx := context.Background()
	s, now := newTestService(t)
	p, password := register(t, s)
	pctx := auth.WithPrincipal(ctx, p)
	enr, err := s.EnrollTOTP(pctx, p)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(enr.Secret, *now)
	if _, err := s.ConfirmTOTP(pctx, p, code); err != nil {
		t.Fatal(err)
	}
	org, _ := s.store.Organization(ctx, p.OrgID)
	org.Require2FA = true
	if err := s.store.UpdateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableTOTP(pctx, p, password, code); problemCode(err) != "organization_requires_2fa" {
		t.Fatalf("disable under require_2fa: %v", err)
	}
	// A plain member is not bound by the requirement.
	member := p
	member.Role = auth.RoleMember
	if err := s.DisableTOTP(auth.WithPrincipal(ctx, member), member, password, code); err != nil {
		t.Fatalf("member disabling: %v", err)
	}
}

func TestTwoFactorInputErrors(t *testing.T) {
	s, _ := newTestService(t)
	p, _ := register(t, s)
	ctx := auth.WithPrincipal(context.Background(), p)
	tests := []struct {
		name  string
		call  func() error
		field string
		code  string
	}{
		{"confirm without code", func() error { _, err := s.ConfirmTOTP(ctx, p, " "); return err }, "code", ""},
		{"confirm before enrolling", func() error { _, err := s.ConfirmTOTP(ctx, p, "123456"); return err }, "", "totp_not_enrolled"},
		{"disable without password", func() error { return s.DisableTOTP(ctx, p, "", "123456") }, "password", ""},
		{"disable without code", func() error { return s.DisableTOTP(ctx, p, "x", "") }, "code", ""},
		{"disable when off", func() error { return s.DisableTOTP(ctx, p, "x", "123456") }, "", "totp_not_enabled"},
		{"regenerate without code", func() error { _, err := s.RegenerateRecoveryCodes(ctx, p, ""); return err }, "code", ""},
		{"regenerate when off", func() error { _, err := s.RegenerateRecoveryCodes(ctx, p, "123456"); return err }, "", "totp_not_enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.field != "" && problemField(err, tt.field) == "" {
				t.Fatalf("want a message for field %q, got %v", tt.field, err)
			}
			if tt.code != "" && problemCode(err) != tt.code {
				t.Fatalf("want code %q, got %v", tt.code, err)
			}
		})
	}
}

func TestIsTOTPCode(t *testing.T) {
	tests := map[string]bool{
		"123456": true, "000000": true, "12345": false, "1234567": false,
		"12345a": false, "abcde-fghij": false, "": false, "１２３４５６": false,
	}
	for in, want := range tests {
		if got := isTOTPCode(in); got != want {
			t.Errorf("isTOTPCode(%q) = %v, want %v", in, got, want)
		}
	}
}
