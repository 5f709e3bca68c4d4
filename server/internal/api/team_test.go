package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
	"github.com/chomhq/chom/server/internal/store"
)

// teamEnv is one organization whose owner builds a team for a test.
type teamEnv struct {
	e     *apitest.Env
	owner *apitest.Tenant
}

// teamMember is someone who joined the owner's organization.
type teamMember struct {
	*apitest.Tenant
	MemberID string
}

func newTeamEnv(t *testing.T, e *apitest.Env) *teamEnv {
	t.Helper()
	return &teamEnv{e: e, owner: e.Register(t, "acme")}
}

func randomEmail(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:8]) + "@example.com"
}

// add creates a member (or invitation) with the owner's token.
func (te *teamEnv) add(t *testing.T, email, role string) map[string]any {
	t.Helper()
	resp := te.e.Do(t, http.MethodPost, "/api/v1/team/members", te.owner.Token, map[string]any{"email": email, "role": role})
	if resp.Status != http.StatusCreated {
		t.Fatalf("add %s as %s: %d %s", email, role, resp.Status, resp.Body)
	}
	return resp.Map(t)
}

// join invites a new person with role and accepts for them, returning
// their token in the owner's organization.
func (te *teamEnv) join(t *testing.T, role string) *teamMember {
	t.Helper()
	email := randomEmail(role)
	inv := te.add(t, email, role)
	password := "pw-" + rand.Text()
	resp := te.e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{
		"token": inv["invitation_token"], "name": "New " + role, "password": password,
	})
	if resp.Status != http.StatusOK {
		t.Fatalf("accept invitation as %s: %d %s", role, resp.Status, resp.Body)
	}
	var s struct {
		User  struct{ ID string }    `json:"user"`
		Role  string                 `json:"role"`
		Token struct{ Token string } `json:"token"`
	}
	resp.Decode(t, &s)
	if s.Role != role {
		t.Fatalf("joined as %q, want %q", s.Role, role)
	}
	return &teamMember{
		Tenant:   &apitest.Tenant{OrgID: te.owner.OrgID, UserID: s.User.ID, Email: email, Password: password, Token: s.Token.Token},
		MemberID: inv["id"].(string),
	}
}

// ownerMemberID returns the membership id of the organization's owner.
func (te *teamEnv) ownerMemberID(t *testing.T) string {
	t.Helper()
	resp := te.e.Do(t, http.MethodGet, "/api/v1/team/members?email="+te.owner.Email, te.owner.Token, nil)
	var list struct{ Data []map[string]any }
	resp.Decode(t, &list)
	if resp.Status != http.StatusOK || len(list.Data) != 1 {
		t.Fatalf("find owner: %d %s", resp.Status, resp.Body)
	}
	return list.Data[0]["id"].(string)
}

// exec runs SQL written with ? placeholders against the server's database.
func (te *teamEnv) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if te.e.Dialect == store.Postgres {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if _, err := te.e.Server.Store.SQLDB().Exec(query, args...); err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
}

func wantStatus(t *testing.T, resp *apitest.Response, status int, code string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
	if code != "" {
		if got := resp.ErrorCode(t); got != code {
			t.Fatalf("error code %q, want %q: %s", got, code, resp.Body)
		}
	}
}

func TestTeamAddKnownUserIsActive(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		te := newTeamEnv(t, e)
		other := e.Register(t, "globex")

		created := te.add(t, strings.ToUpper(other.Email), "admin")
		if created["status"] != "active" || created["user_id"] != other.UserID || created["name"] != "globex Owner" ||
			created["email"] != other.Email || created["invited_by"] != te.owner.UserID || created["invitation_expires_at"] != nil {
			t.Fatalf("created = %v", created)
		}
		if _, ok := created["invitation_token"]; ok {
			t.Fatalf("an active member got an invitation token: %v", created)
		}

		// A read returns exactly what the create returned, so an import shows no diff.
		got := e.Do(t, http.MethodGet, "/api/v1/team/members/"+created["id"].(string), te.owner.Token, nil)
		wantStatus(t, got, http.StatusOK, "")
		if m := got.Map(t); !reflect.DeepEqual(m, created) {
			t.Fatalf("read %v\ncreate %v", m, created)
		}

		list := e.Do(t, http.MethodGet, "/api/v1/team/members?status=active&role=admin", te.owner.Token, nil)
		var page struct {
			Data       []map[string]any
			Pagination struct{ Total int }
		}
		list.Decode(t, &page)
		if page.Pagination.Total != 1 || page.Data[0]["id"] != created["id"] {
			t.Fatalf("filtered list = %s", list.Body)
		}

		// The added account can now sign in to the organization.
		login := e.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{
			"email": other.Email, "password": other.Password, "organization_id": te.owner.OrgID,
		})
		wantStatus(t, login, http.StatusOK, "")
		if role := login.Map(t)["role"]; role != "admin" {
			t.Fatalf("signed in as %v", role)
		}
	})
}

func TestTeamInvitationLifecycle(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		te := newTeamEnv(t, e)
		email := randomEmail("invitee")
		before := time.Now()
		inv := te.add(t, "  "+strings.ToUpper(email)+" ", "member")
		token, _ := inv["invitation_token"].(string)
		if inv["status"] != "pending" || inv["user_id"] != nil || inv["name"] != nil || token == "" || inv["email"] != email {
			t.Fatalf("invitation = %v", inv)
		}
		expires, err := time.Parse(time.RFC3339Nano, inv["invitation_expires_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if d := expires.Sub(before); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
			t.Fatalf("invitation expires in %v, want 7 days", d)
		}
		id := inv["id"].(string)

		// The token is shown once: reads never carry it.
		got := e.Do(t, http.MethodGet, "/api/v1/team/members/"+id, te.owner.Token, nil)
		if bytes.Contains(got.Body, []byte(token)) || bytes.Contains(got.Body, []byte("invitation_token")) {
			t.Fatalf("read exposes the invitation token: %s", got.Body)
		}
		delete(inv, "invitation_token")
		if m := got.Map(t); !reflect.DeepEqual(m, inv) {
			t.Fatalf("read %v\ncreate %v", m, inv)
		}

		accept := func(body map[string]any, opts ...apitest.RequestOption) *apitest.Response {
			return e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", body, opts...)
		}
		resp := accept(map[string]any{"token": token, "password": "short"})
		wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")
		if f := resp.ErrorFields(t); f["name"] == "" || f["password"] == "" {
			t.Fatalf("fields = %v", f)
		}
		wantStatus(t, accept(map[string]any{"token": "chominv_" + strings.ToLower(rand.Text()), "name": "X", "password": "long enough pw"}),
			http.StatusNotFound, "invitation_not_found")

		resp = accept(map[string]any{"token": token, "name": "Grace Hopper", "password": "a long password"})
		wantStatus(t, resp, http.StatusOK, "")
		var sess struct {
			User struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"user"`
			Organization struct{ ID string } `json:"organization"`
			Role         string              `json:"role"`
			Token        struct{ Token string }
		}
		resp.Decode(t, &sess)
		if sess.Organization.ID != te.owner.OrgID || sess.Role != "member" || sess.User.Email != email {
			t.Fatalf("session = %s", resp.Body)
		}

		me := e.Do(t, http.MethodGet, "/api/v1/me", sess.Token.Token, nil)
		wantStatus(t, me, http.StatusOK, "")
		var meBody struct {
			User         struct{ ID string } `json:"user"`
			Organization struct{ ID string } `json:"organization"`
		}
		me.Decode(t, &meBody)
		if meBody.User.ID != sess.User.ID || meBody.Organization.ID != te.owner.OrgID {
			t.Fatalf("me = %s", me.Body)
		}

		active := e.Do(t, http.MethodGet, "/api/v1/team/members/"+id, te.owner.Token, nil).Map(t)
		if active["status"] != "active" || active["user_id"] != sess.User.ID || active["name"] != "Grace Hopper" || active["invitation_expires_at"] != nil {
			t.Fatalf("after accepting: %v", active)
		}

		// The token is spent.
		wantStatus(t, accept(map[string]any{"token": token, "name": "Grace Hopper", "password": "a long password"}),
			http.StatusNotFound, "invitation_not_found")

		// The new account signs in with its password.
		wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": "a long password"}), http.StatusOK, "")
	})
}

func TestTeamInvitationExpired(t *testing.T) {
	e := apitest.New(t)
	te := newTeamEnv(t, e)
	inv := te.add(t, randomEmail("late"), "viewer")
	te.exec(t, "UPDATE memberships SET invitation_expires_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Second), inv["id"])
	resp := e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{
		"token": inv["invitation_token"], "name": "Late", "password": "a long password",
	})
	wantStatus(t, resp, http.StatusNotFound, "invitation_not_found")
	if m := e.Do(t, http.MethodGet, "/api/v1/team/members/"+inv["id"].(string), te.owner.Token, nil).Map(t); m["status"] != "pending" {
		t.Fatalf("an expired invitation changed: %v", m)
	}
	// No account was created for the refused attempt.
	var n int
	q := "SELECT COUNT(*) FROM users WHERE email = ?"
	if err := e.Server.Store.SQLDB().QueryRow(q, inv["email"]).Scan(&n); err != nil || n != 0 {
		t.Fatalf("users with the invited e-mail: %d (%v)", n, err)
	}
}

func TestTeamInvitationForExistingAccount(t *testing.T) {
	e := apitest.New(t)
	te := newTeamEnv(t, e)
	email := randomEmail("later")
	inv := te.add(t, email, "member")

	// The invited person signs up elsewhere before accepting.
	password := "their own password"
	reg := e.Do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]any{
		"name": "Later", "email": email, "password": password, "organization_name": "Their Co",
	})
	wantStatus(t, reg, http.StatusCreated, "")
	var regBody struct {
		User  struct{ ID string } `json:"user"`
		Token struct{ Token string }
	}
	reg.Decode(t, &regBody)

	// Enable 2FA on the account: accepting then needs the second factor too.
	secret := enableTOTP(t, e, regBody.Token.Token)

	accept := func(body map[string]any) *apitest.Response {
		body["token"] = inv["invitation_token"]
		return e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", body)
	}
	wantStatus(t, accept(map[string]any{"password": "not their password"}), http.StatusUnauthorized, "invalid_credentials")
	wantStatus(t, accept(map[string]any{"password": password}), http.StatusUnauthorized, "totp_required")
	resp := accept(map[string]any{"password": password, "name": "ignored", "totp_code": totpNow(t, secret)})
	wantStatus(t, resp, http.StatusOK, "")
	s := resp.Map(t)
	if s["user"].(map[string]any)["id"] != regBody.User.ID || s["user"].(map[string]any)["name"] != "Later" || s["role"] != "member" {
		t.Fatalf("session = %s", resp.Body)
	}
	m := e.Do(t, http.MethodGet, "/api/v1/team/members/"+inv["id"].(string), te.owner.Token, nil).Map(t)
	if m["status"] != "active" || m["user_id"] != regBody.User.ID {
		t.Fatalf("member = %v", m)
	}
}

func TestTeamDuplicateEmail(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		te := newTeamEnv(t, e)
		email := randomEmail("dup")
		te.add(t, email, "member")
		for _, again := range []string{email, strings.ToUpper(email), te.owner.Email} {
			resp := e.Do(t, http.MethodPost, "/api/v1/team/members", te.owner.Token, map[string]any{"email": again, "role": "viewer"})
			wantStatus(t, resp, http.StatusConflict, "member_exists")
		}
		list := e.Do(t, http.MethodGet, "/api/v1/team/members", te.owner.Token, nil)
		var page struct{ Pagination struct{ Total int } }
		list.Decode(t, &page)
		if page.Pagination.Total != 2 {
			t.Fatalf("members after duplicates: %s", list.Body)
		}
	})
}

func TestTeamInputValidation(t *testing.T) {
	e := apitest.New(t)
	te := newTeamEnv(t, e)
	m := te.join(t, "member")
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		field  string
	}{
		{"bad email", http.MethodPost, "/api/v1/team/members", map[string]any{"email": "not-an-email", "role": "member"}, "email"},
		{"missing email", http.MethodPost, "/api/v1/team/members", map[string]any{"role": "member"}, "email"},
		{"unknown role", http.MethodPost, "/api/v1/team/members", map[string]any{"email": randomEmail("x"), "role": "superuser"}, "role"},
		{"patch without role", http.MethodPatch, "/api/v1/team/members/" + m.MemberID, map[string]any{}, "role"},
		{"patch unknown role", http.MethodPatch, "/api/v1/team/members/" + m.MemberID, map[string]any{"role": "god"}, "role"},
		{"role filter", http.MethodGet, "/api/v1/team/members?role=god", nil, "role"},
		{"status filter", http.MethodGet, "/api/v1/team/members?status=gone", nil, "status"},
		{"accept without token", http.MethodPost, "/api/v1/invitations/accept", map[string]any{"password": "x"}, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := te.owner.Token
			if strings.Contains(tt.path, "invitations") {
				token = ""
			}
			resp := e.Do(t, tt.method, tt.path, token, tt.body, apitest.Invalid())
			wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")
			if resp.ErrorFields(t)[tt.field] == "" {
				t.Fatalf("no message for %q: %s", tt.field, resp.Body)
			}
		})
	}
	// Nothing changed.
	if got := e.Do(t, http.MethodGet, "/api/v1/team/members/"+m.MemberID, te.owner.Token, nil).Map(t); got["role"] != "member" {
		t.Fatalf("member after bad input: %v", got)
	}
	var page struct{ Pagination struct{ Total int } }
	e.Do(t, http.MethodGet, "/api/v1/team/members", te.owner.Token, nil).Decode(t, &page)
	if page.Pagination.Total != 2 {
		t.Fatalf("bad input added members: %d", page.Pagination.Total)
	}
}

func TestTeamChangeRoleAndRemove(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		te := newTeamEnv(t, e)
		m := te.join(t, "member")
		path := "/api/v1/team/members/" + m.MemberID

		before := e.Do(t, http.MethodGet, path, te.owner.Token, nil).Map(t)
		resp := e.Do(t, http.MethodPatch, path, te.owner.Token, map[string]any{"role": "admin"})
		wantStatus(t, resp, http.StatusOK, "")
		after := resp.Map(t)
		if after["role"] != "admin" || after["updated_at"] == before["updated_at"] || after["created_at"] != before["created_at"] {
			t.Fatalf("after PATCH: %v (before %v)", after, before)
		}
		if got := e.Do(t, http.MethodGet, path, te.owner.Token, nil).Map(t); !reflect.DeepEqual(got, after) {
			t.Fatalf("read %v, PATCH returned %v", got, after)
		}
		// The member's existing token carries the new role at once.
		if role := e.Do(t, http.MethodGet, "/api/v1/me", m.Token, nil).Map(t)["role"]; role != "admin" {
			t.Fatalf("role seen by the member's token: %v", role)
		}

		// A second token of the member, then removal revokes both.
		tok := e.Do(t, http.MethodPost, "/api/v1/tokens", m.Token, map[string]any{"name": "ci", "abilities": []string{"read"}})
		wantStatus(t, tok, http.StatusCreated, "")
		second := tok.Map(t)["token"].(string)

		wantStatus(t, e.Do(t, http.MethodDelete, path, te.owner.Token, nil), http.StatusNoContent, "")
		for _, token := range []string{m.Token, second} {
			wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/me", token, nil), http.StatusUnauthorized, "invalid_token")
		}
		wantStatus(t, e.Do(t, http.MethodGet, path, te.owner.Token, nil), http.StatusNotFound, "not_found")
		wantStatus(t, e.Do(t, http.MethodDelete, path, te.owner.Token, nil), http.StatusNotFound, "not_found")

		// A pending invitation can be withdrawn; its token then accepts nothing.
		inv := te.add(t, randomEmail("withdrawn"), "viewer")
		wantStatus(t, e.Do(t, http.MethodDelete, "/api/v1/team/members/"+inv["id"].(string), te.owner.Token, nil), http.StatusNoContent, "")
		wantStatus(t, e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{
			"token": inv["invitation_token"], "name": "W", "password": "a long password",
		}), http.StatusNotFound, "invitation_not_found")
	})
}

func TestTeamRoleRules(t *testing.T) {
	e := apitest.New(t)
	te := newTeamEnv(t, e)
	admin := te.join(t, "admin")
	member := te.join(t, "member")
	viewer := te.join(t, "viewer")
	ownerID := te.ownerMemberID(t)

	readOnly := e.Do(t, http.MethodPost, "/api/v1/tokens", te.owner.Token, map[string]any{"name": "ro", "abilities": []string{"read"}})
	wantStatus(t, readOnly, http.StatusCreated, "")
	readOnlyToken := readOnly.Map(t)["token"].(string)

	members := "/api/v1/team/members"
	tests := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"viewer reads", viewer.Token, http.MethodGet, members, nil, 200, ""},
		{"viewer cannot add", viewer.Token, http.MethodPost, members, map[string]any{"email": randomEmail("v"), "role": "viewer"}, 403, "insufficient_role"},
		{"viewer cannot change", viewer.Token, http.MethodPatch, members + "/" + member.MemberID, map[string]any{"role": "viewer"}, 403, "insufficient_role"},
		{"viewer cannot remove", viewer.Token, http.MethodDelete, members + "/" + member.MemberID, nil, 403, "insufficient_role"},
		{"member cannot add", member.Token, http.MethodPost, members, map[string]any{"email": randomEmail("m"), "role": "viewer"}, 403, "insufficient_role"},
		{"member cannot change", member.Token, http.MethodPatch, members + "/" + viewer.MemberID, map[string]any{"role": "member"}, 403, "insufficient_role"},
		{"member cannot remove", member.Token, http.MethodDelete, members + "/" + viewer.MemberID, nil, 403, "insufficient_role"},
		{"read-only token cannot add", readOnlyToken, http.MethodPost, members, map[string]any{"email": randomEmail("r"), "role": "viewer"}, 403, "insufficient_ability"},
		{"read-only token cannot change", readOnlyToken, http.MethodPatch, members + "/" + viewer.MemberID, map[string]any{"role": "member"}, 403, "insufficient_ability"},
		{"read-only token cannot remove", readOnlyToken, http.MethodDelete, members + "/" + viewer.MemberID, nil, 403, "insufficient_ability"},
		{"admin cannot invite an owner", admin.Token, http.MethodPost, members, map[string]any{"email": randomEmail("o"), "role": "owner"}, 403, "insufficient_role"},
		{"admin cannot promote to owner", admin.Token, http.MethodPatch, members + "/" + member.MemberID, map[string]any{"role": "owner"}, 403, "insufficient_role"},
		{"admin cannot demote the owner", admin.Token, http.MethodPatch, members + "/" + ownerID, map[string]any{"role": "admin"}, 403, "insufficient_role"},
		{"admin cannot remove the owner", admin.Token, http.MethodDelete, members + "/" + ownerID, nil, 403, "insufficient_role"},
		{"admin invites an admin", admin.Token, http.MethodPost, members, map[string]any{"email": randomEmail("a"), "role": "admin"}, 201, ""},
		{"admin changes a member", admin.Token, http.MethodPatch, members + "/" + viewer.MemberID, map[string]any{"role": "member"}, 200, ""},
		{"last owner cannot be demoted", te.owner.Token, http.MethodPatch, members + "/" + ownerID, map[string]any{"role": "admin"}, 409, "last_owner"},
		{"last owner cannot leave", te.owner.Token, http.MethodDelete, members + "/" + ownerID, nil, 409, "last_owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.Do(t, tt.method, tt.path, tt.token, tt.body)
			wantStatus(t, resp, tt.status, tt.code)
		})
	}
	if got := e.Do(t, http.MethodGet, members+"/"+ownerID, te.owner.Token, nil).Map(t); got["role"] != "owner" {
		t.Fatalf("owner after refused changes: %v", got)
	}

	// With a second owner, the first can step down, and then the second is the last.
	wantStatus(t, e.Do(t, http.MethodPatch, members+"/"+admin.MemberID, te.owner.Token, map[string]any{"role": "owner"}), http.StatusOK, "")
	wantStatus(t, e.Do(t, http.MethodPatch, members+"/"+ownerID, te.owner.Token, map[string]any{"role": "admin"}), http.StatusOK, "")
	wantStatus(t, e.Do(t, http.MethodDelete, members+"/"+admin.MemberID, admin.Token, nil), http.StatusConflict, "last_owner")
	// The first owner, now an admin, cannot touch the remaining owner.
	wantStatus(t, e.Do(t, http.MethodPatch, members+"/"+admin.MemberID, te.owner.Token, map[string]any{"role": "member"}), http.StatusForbidden, "insufficient_role")
	// A pending owner invitation is no owner: the last active owner still cannot leave.
	resp := e.Do(t, http.MethodPost, members, admin.Token, map[string]any{"email": randomEmail("future-owner"), "role": "owner"})
	wantStatus(t, resp, http.StatusCreated, "")
	wantStatus(t, e.Do(t, http.MethodDelete, members+"/"+admin.MemberID, admin.Token, nil), http.StatusConflict, "last_owner")
	// Once the first is owner again, the second may remove themselves.
	wantStatus(t, e.Do(t, http.MethodPatch, members+"/"+ownerID, admin.Token, map[string]any{"role": "owner"}), http.StatusOK, "")
	wantStatus(t, e.Do(t, http.MethodDelete, members+"/"+admin.MemberID, admin.Token, nil), http.StatusNoContent, "")
	wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/me", admin.Token, nil), http.StatusUnauthorized, "invalid_token")
}

// TestTeamOwnersDemotingEachOther races two owners demoting each other:
// the owner count is taken inside the transaction, so exactly one wins
// and the organization always keeps an owner.
func TestTeamOwnersDemotingEachOther(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		te := newTeamEnv(t, e)
		second := te.join(t, "owner")
		ownerID := te.ownerMemberID(t)
		owners := []struct{ token, memberID string }{{te.owner.Token, ownerID}, {second.Token, second.MemberID}}

		for round := range 3 {
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i := range owners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body, _ := json.Marshal(map[string]string{"role": "admin"})
					req, _ := http.NewRequest(http.MethodPatch, e.URL+"/api/v1/team/members/"+owners[1-i].memberID, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+owners[i].token)
					req.Header.Set("Content-Type", "application/json")
					resp, err := e.HTTP.Do(req)
					if err != nil {
						t.Errorf("patch: %v", err)
						return
					}
					_ = resp.Body.Close()
					statuses[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			// The loser gets 409 when its check sees the other's demotion,
			// or 403 when it authenticated after the winner had already
			// made it an admin.
			winner := -1
			for i, s := range statuses {
				switch s {
				case http.StatusOK:
					if winner >= 0 {
						t.Fatalf("round %d: both demotions succeeded: %v", round, statuses)
					}
					winner = i
				case http.StatusConflict, http.StatusForbidden:
				default:
					t.Fatalf("round %d: statuses %v", round, statuses)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: neither demotion succeeded: %v", round, statuses)
			}
			var page struct {
				Data       []map[string]any
				Pagination struct{ Total int }
			}
			e.Do(t, http.MethodGet, "/api/v1/team/members?role=owner", te.owner.Token, nil).Decode(t, &page)
			if page.Pagination.Total != 1 || page.Data[0]["id"] != owners[winner].memberID {
				t.Fatalf("round %d: owners left %v, want only the winner", round, page.Data)
			}
			// Restore the second owner for the next round.
			resp := e.Do(t, http.MethodPatch, "/api/v1/team/members/"+owners[1-winner].memberID, owners[winner].token, map[string]any{"role": "owner"})
			wantStatus(t, resp, http.StatusOK, "")
		}
	})
}
