package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/auth"
)

func totpNow(t *testing.T, secret string) string {
	t.Helper()
	code, err := auth.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrollTOTP starts enrolment for token's user and returns the secret.
func enrollTOTP(t *testing.T, e *apitest.Env, token string) string {
	t.Helper()
	resp := e.Do(t, http.MethodPost, "/api/v1/me/2fa/enroll", token, map[string]any{})
	wantStatus(t, resp, http.StatusOK, "")
	var body struct {
		Secret string `json:"secret"`
		URI    string `json:"otpauth_uri"`
	}
	resp.Decode(t, &body)
	if body.Secret == "" || !strings.HasPrefix(body.URI, "otpauth://totp/CHOM:") {
		t.Fatalf("enrolment = %s", resp.Body)
	}
	return body.Secret
}

// enableTOTP enrols and confirms a second factor and returns its secret.
func enableTOTP(t *testing.T, e *apitest.Env, token string) string {
	t.Helper()
	secret := enrollTOTP(t, e, token)
	wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/confirm", token, map[string]any{"code": totpNow(t, secret)}), http.StatusOK, "")
	return secret
}

// wrongTOTP returns six digits that are not a valid code for secret now.
func wrongTOTP(t *testing.T, secret string) string {
	t.Helper()
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !auth.ValidTOTP(c, secret, time.Now()) {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestTwoFactorEnrolConfirmLoginDisable(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		owner := e.Register(t, "acme")
		login := func(extra map[string]any) *apitest.Response {
			body := map[string]any{"email": owner.Email, "password": owner.Password}
			for k, v := range extra {
				body[k] = v
			}
			return e.Do(t, http.MethodPost, "/api/v1/auth/login", "", body)
		}

		// The body is optional.
		wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/enroll", owner.Token, nil), http.StatusOK, "")
		secret := enrollTOTP(t, e, owner.Token)

		resp := e.Do(t, http.MethodPost, "/api/v1/me/2fa/confirm", owner.Token, map[string]any{"code": wrongTOTP(t, secret)})
		wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")
		if resp.ErrorFields(t)["code"] == "" {
			t.Fatalf("wrong code not named: %s", resp.Body)
		}
		// Still off: sign-in needs no code.
		wantStatus(t, login(nil), http.StatusOK, "")

		resp = e.Do(t, http.MethodPost, "/api/v1/me/2fa/confirm", owner.Token, map[string]any{"code": totpNow(t, secret)})
		wantStatus(t, resp, http.StatusOK, "")
		var rc struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		resp.Decode(t, &rc)
		if len(rc.RecoveryCodes) != 10 {
			t.Fatalf("recovery codes = %v", rc.RecoveryCodes)
		}
		me := e.Do(t, http.MethodGet, "/api/v1/me", owner.Token, nil).Map(t)
		if me["user"].(map[string]any)["totp_enabled"] != true {
			t.Fatalf("me after confirming: %v", me)
		}
		wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/enroll", owner.Token, map[string]any{}), http.StatusConflict, "totp_already_enabled")

		wantStatus(t, login(nil), http.StatusUnauthorized, "totp_required")
		wantStatus(t, login(map[string]any{"totp_code": wrongTOTP(t, secret)}), http.StatusUnauthorized, "invalid_totp_code")
		wantStatus(t, login(map[string]any{"totp_code": totpNow(t, secret)}), http.StatusOK, "")
		wantStatus(t, login(map[string]any{"recovery_code": rc.RecoveryCodes[0]}), http.StatusOK, "")
		wantStatus(t, login(map[string]any{"recovery_code": rc.RecoveryCodes[0]}), http.StatusUnauthorized, "invalid_recovery_code")

		// New recovery codes replace the old ones.
		resp = e.Do(t, http.MethodPost, "/api/v1/me/2fa/recovery-codes", owner.Token, map[string]any{"code": totpNow(t, secret)})
		wantStatus(t, resp, http.StatusOK, "")
		var fresh struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		resp.Decode(t, &fresh)
		if len(fresh.RecoveryCodes) != 10 || fresh.RecoveryCodes[0] == rc.RecoveryCodes[1] {
			t.Fatalf("regenerated codes = %v", fresh.RecoveryCodes)
		}
		wantStatus(t, login(map[string]any{"recovery_code": rc.RecoveryCodes[1]}), http.StatusUnauthorized, "invalid_recovery_code")

		resp = e.Do(t, http.MethodPost, "/api/v1/me/2fa/disable", owner.Token, map[string]any{"password": "wrong password", "code": totpNow(t, secret)})
		wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")
		if resp.ErrorFields(t)["password"] == "" {
			t.Fatalf("wrong password not named: %s", resp.Body)
		}
		wantStatus(t, login(nil), http.StatusUnauthorized, "totp_required")

		// A recovery code disables too.
		wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/disable", owner.Token, map[string]any{"password": owner.Password, "code": fresh.RecoveryCodes[0]}),
			http.StatusNoContent, "")
		wantStatus(t, login(nil), http.StatusOK, "")
		me = e.Do(t, http.MethodGet, "/api/v1/me", owner.Token, nil).Map(t)
		if me["user"].(map[string]any)["totp_enabled"] != false {
			t.Fatalf("me after disabling: %v", me)
		}
		wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/recovery-codes", owner.Token, map[string]any{"code": "123456"}), http.StatusConflict, "totp_not_enabled")
	})
}

func TestTwoFactorRequiredByOrganization(t *testing.T) {
	e := apitest.New(t)
	te := newTeamEnv(t, e)
	admin := te.join(t, "admin")
	member := te.join(t, "member")

	// The owner cannot require what they do not have.
	resp := e.Do(t, http.MethodPatch, "/api/v1/organization", te.owner.Token, map[string]any{"require_2fa": true})
	wantStatus(t, resp, http.StatusConflict, "two_factor_not_enabled")
	if org := e.Do(t, http.MethodGet, "/api/v1/organization", te.owner.Token, nil).Map(t); org["require_2fa"] != false {
		t.Fatalf("organization after refusal: %v", org)
	}

	ownerSecret := enableTOTP(t, e, te.owner.Token)
	resp = e.Do(t, http.MethodPatch, "/api/v1/organization", te.owner.Token, map[string]any{"require_2fa": true})
	wantStatus(t, resp, http.StatusOK, "")
	if resp.Map(t)["require_2fa"] != true {
		t.Fatalf("PATCH returned %s", resp.Body)
	}

	// The admin without a second factor is shut out of everything but /me.
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/tokens", admin.Token, nil), http.StatusForbidden, "two_factor_required")
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/team/members", admin.Token, nil), http.StatusForbidden, "two_factor_required")
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/me", admin.Token, nil), http.StatusOK, "")
	adminSecret := enrollTOTP(t, e, admin.Token)
	// A plain member is not bound by the requirement; the owner has 2FA.
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/tokens", member.Token, nil), http.StatusOK, "")
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/tokens", te.owner.Token, nil), http.StatusOK, "")

	wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/confirm", admin.Token, map[string]any{"code": totpNow(t, adminSecret)}), http.StatusOK, "")
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/tokens", admin.Token, nil), http.StatusOK, "")

	// While required, an owner or admin cannot turn their second factor off.
	wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/me/2fa/disable", te.owner.Token, map[string]any{"password": te.owner.Password, "code": totpNow(t, ownerSecret)}),
		http.StatusConflict, "organization_requires_2fa")
}
