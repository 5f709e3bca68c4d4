package api_test

import (
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/auth"
)

func TestRegisterValidation(t *testing.T) {
	e := apitest.New(t)
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"missing name", map[string]any{"email": "a@example.com", "password": "0123456789ab", "organization_name": "o"}, "name"},
		{"bad email", map[string]any{"name": "n", "email": "not-an-email", "password": "0123456789ab", "organization_name": "o"}, "email"},
		{"short password", map[string]any{"name": "n", "email": "a@example.com", "password": "short", "organization_name": "o"}, "password"},
		{"control characters", map[string]any{"name": "n\x00x", "email": "a@example.com", "password": "0123456789ab", "organization_name": "o"}, "name"},
		{"missing organization", map[string]any{"name": "n", "email": "a@example.com", "password": "0123456789ab"}, "organization_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.Do(t, http.MethodPost, "/api/v1/auth/register", "", tc.body, apitest.Invalid())
			if resp.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", resp.Status, resp.Body)
			}
			if _, ok := resp.ErrorFields(t)[tc.field]; !ok {
				t.Fatalf("error does not name %q: %s", tc.field, resp.Body)
			}
		})
	}
	var users int
	if err := e.Server.Store.SQLDB().QueryRow("SELECT count(*) FROM users").Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 0 {
		t.Fatalf("invalid registrations created %d users", users)
	}
}

func TestRegisterDuplicateEmail(t *testing.T) {
	e := apitest.New(t)
	a := e.Register(t, "first")
	resp := e.Do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]any{
		"name": "x", "email": strings.ToUpper(a.Email), "password": "0123456789ab", "organization_name": "o",
	})
	if resp.Status != http.StatusConflict || resp.ErrorCode(t) != "email_taken" {
		t.Fatalf("status %d %s, want 409 email_taken", resp.Status, resp.Body)
	}
}

func TestLogin(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		a := e.Register(t, "acme")
		resp := e.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": a.Email, "password": a.Password})
		if resp.Status != http.StatusOK {
			t.Fatalf("login: %d %s", resp.Status, resp.Body)
		}
		var s struct {
			Token struct {
				Token string `json:"token"`
			} `json:"token"`
			Role string `json:"role"`
		}
		resp.Decode(t, &s)
		if s.Role != "owner" || !strings.HasPrefix(s.Token.Token, "chom_") {
			t.Fatalf("unexpected session %s", resp.Body)
		}
		if me := e.Do(t, http.MethodGet, "/api/v1/me", s.Token.Token, nil); me.Status != http.StatusOK {
			t.Fatalf("me with login token: %d", me.Status)
		}
		for _, body := range []map[string]any{
			{"email": a.Email, "password": a.Password + "x"},
			{"email": "nobody@example.com", "password": a.Password},
		} {
			resp := e.Do(t, http.MethodPost, "/api/v1/auth/login", "", body)
			if resp.Status != http.StatusUnauthorized || resp.ErrorCode(t) != "invalid_credentials" {
				t.Fatalf("bad login: %d %s", resp.Status, resp.Body)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		a := e.Register(t, "acme")

		// A read-only token can read and cannot write.
		resp := e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, map[string]any{"name": "ro", "abilities": []string{"read"}})
		if resp.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		ro := resp.Map(t)
		roToken := ro["token"].(string)
		if got := e.Do(t, http.MethodGet, "/api/v1/me", roToken, nil); got.Status != http.StatusOK {
			t.Fatalf("read with read token: %d", got.Status)
		}
		got := e.Do(t, http.MethodPost, "/api/v1/tokens", roToken, map[string]any{"name": "x", "abilities": []string{"read"}})
		if got.Status != http.StatusForbidden || got.ErrorCode(t) != "insufficient_ability" {
			t.Fatalf("write with read token: %d %s", got.Status, got.Body)
		}

		// The plaintext is never stored, only its hash; lists never show it.
		db := e.Server.Store.SQLDB()
		var storedHash string
		if err := db.QueryRow("SELECT token_hash FROM api_tokens WHERE id = "+placeholder(e), ro["id"]).Scan(&storedHash); err != nil {
			t.Fatal(err)
		}
		if storedHash != auth.HashSecret(roToken) {
			t.Fatalf("stored token_hash %q is not the SHA-256 of the token", storedHash)
		}
		assertNotInTable(t, db, "api_tokens", roToken)
		list := e.Do(t, http.MethodGet, "/api/v1/tokens", a.Token, nil)
		if strings.Contains(string(list.Body), roToken) || strings.Contains(string(list.Body), a.Token) {
			t.Fatal("token list shows a plaintext token")
		}

		// last_used_at is kept.
		var lastUsed sql.NullString
		if err := db.QueryRow("SELECT last_used_at FROM api_tokens WHERE id = "+placeholder(e)+"", ro["id"]).Scan(&lastUsed); err != nil {
			t.Fatal(err)
		}
		if !lastUsed.Valid {
			t.Fatal("last_used_at not recorded")
		}

		// Revoked tokens are refused.
		if del := e.Do(t, http.MethodDelete, "/api/v1/tokens/"+ro["id"].(string), a.Token, nil); del.Status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", del.Status, del.Body)
		}
		if got := e.Do(t, http.MethodGet, "/api/v1/me", roToken, nil); got.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d", got.Status)
		}
		if del := e.Do(t, http.MethodDelete, "/api/v1/tokens/"+ro["id"].(string), a.Token, nil); del.Status != http.StatusNotFound {
			t.Fatalf("revoke twice: %d", del.Status)
		}

		// Expired tokens are refused.
		resp = e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, map[string]any{
			"name": "short", "abilities": []string{"read"}, "expires_at": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano),
		})
		if resp.Status != http.StatusCreated {
			t.Fatalf("create expiring: %d %s", resp.Status, resp.Body)
		}
		short := resp.Map(t)["token"].(string)
		if got := e.Do(t, http.MethodGet, "/api/v1/me", short, nil); got.Status != http.StatusOK {
			t.Fatalf("fresh token: %d", got.Status)
		}
		time.Sleep(1600 * time.Millisecond)
		if got := e.Do(t, http.MethodGet, "/api/v1/me", short, nil); got.Status != http.StatusUnauthorized {
			t.Fatalf("expired token: %d", got.Status)
		}

		// Tokens cannot be minted with more than the caller holds, nor in the past.
		for _, body := range []map[string]any{
			{"name": "x", "abilities": []string{"root"}},
			{"name": "x", "abilities": []string{}},
			{"name": "", "abilities": []string{"read"}},
			{"name": "x", "abilities": []string{"read"}, "expires_at": "2001-01-01T00:00:00Z"},
		} {
			if got := e.Do(t, http.MethodPost, "/api/v1/tokens", a.Token, body, apitest.Invalid()); got.Status != http.StatusUnprocessableEntity {
				t.Errorf("create %v: %d, want 422", body, got.Status)
			}
		}
	})
}

func TestMissingAndMalformedTokens(t *testing.T) {
	e := apitest.New(t)
	for _, h := range []string{"", "Bearer", "Basic abc", "Bearer chom_" + strings.Repeat("a", 52), "Bearer " + strings.Repeat("x", 300)} {
		resp := e.Do(t, http.MethodGet, "/api/v1/me", "", nil, apitest.Header("Authorization", h))
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("Authorization %.20q: %d, want 401", h, resp.Status)
		}
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %.20q: no WWW-Authenticate", h)
		}
	}
}

// assertNotInTable fails when any text column of table contains secret.
func assertNotInTable(t *testing.T, db *sql.DB, table, secret string) {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if strings.Contains(v.String, secret) {
				t.Fatalf("%s.%s holds a secret in the clear", table, cols[i])
			}
		}
	}
}

func placeholder(e *apitest.Env) string {
	if e.Dialect == "postgres" {
		return "$1"
	}
	return "?"
}
