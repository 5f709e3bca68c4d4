package api_test

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/apitest"
)

type auditEntry struct {
	ID          string         `json:"id"`
	ActorUserID *string        `json:"actor_user_id"`
	TokenID     *string        `json:"token_id"`
	IP          string         `json:"ip"`
	UserAgent   string         `json:"user_agent"`
	Action      string         `json:"action"`
	TargetType  string         `json:"target_type"`
	TargetID    string         `json:"target_id"`
	Changes     map[string]any `json:"changes"`
	RunID       string         `json:"run_id"`
	RequestID   string         `json:"request_id"`
	CreatedAt   time.Time      `json:"created_at"`
}

type auditPage struct {
	Data       []auditEntry `json:"data"`
	Pagination struct {
		Total int `json:"total"`
	} `json:"pagination"`
}

func listAudit(t *testing.T, e *apitest.Env, token string, query url.Values) auditPage {
	t.Helper()
	resp := e.Do(t, http.MethodGet, "/api/v1/audit-logs?"+query.Encode(), token, nil)
	wantStatus(t, resp, http.StatusOK, "")
	var p auditPage
	resp.Decode(t, &p)
	return p
}

func TestAuditLog(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		const ua = "chom-audit-test/1.0"
		runID := "run-" + strings.ToLower(rand.Text()[:10])
		h := []apitest.RequestOption{apitest.Header("User-Agent", ua), apitest.Header("X-Chom-Run-Id", runID)}
		var secrets []string
		start := time.Now().Add(-time.Second)

		// Sign-up and sign-in.
		email := randomEmail("auditor")
		password := "pw-" + rand.Text()
		secrets = append(secrets, password)
		reg := e.Do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]any{
			"name": "Auditor", "email": email, "password": password, "organization_name": "Audited",
		}, h...)
		wantStatus(t, reg, http.StatusCreated, "")
		var s struct {
			User         struct{ ID string } `json:"user"`
			Organization struct{ ID string } `json:"organization"`
			Token        struct {
				ID    string `json:"id"`
				Token string `json:"token"`
			} `json:"token"`
		}
		reg.Decode(t, &s)
		ownerID, owner, ownerTokenID := s.User.ID, s.Token.Token, s.Token.ID
		secrets = append(secrets, owner)
		login := e.Do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": password}, h...)
		wantStatus(t, login, http.StatusOK, "")
		loginToken := login.Map(t)["token"].(map[string]any)
		secrets = append(secrets, loginToken["token"].(string))

		// Tokens.
		tok := e.Do(t, http.MethodPost, "/api/v1/tokens", owner, map[string]any{"name": "ci", "abilities": []string{"read"}}, h...)
		wantStatus(t, tok, http.StatusCreated, "")
		newToken := tok.Map(t)
		secrets = append(secrets, newToken["token"].(string))
		wantStatus(t, e.Do(t, http.MethodDelete, "/api/v1/tokens/"+newToken["id"].(string), owner, nil, h...), http.StatusNoContent, "")

		// Team: invite, change, accept, remove.
		inv := e.Do(t, http.MethodPost, "/api/v1/team/members", owner, map[string]any{"email": randomEmail("audited"), "role": "member"}, h...)
		wantStatus(t, inv, http.StatusCreated, "")
		member := inv.Map(t)
		memberID, invitation := member["id"].(string), member["invitation_token"].(string)
		secrets = append(secrets, invitation)
		wantStatus(t, e.Do(t, http.MethodPatch, "/api/v1/team/members/"+memberID, owner, map[string]any{"role": "admin"}, h...), http.StatusOK, "")
		inviteePassword := "pw-" + rand.Text()
		secrets = append(secrets, inviteePassword)
		acc := e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{"token": invitation, "name": "Invitee", "password": inviteePassword}, h...)
		wantStatus(t, acc, http.StatusOK, "")
		accepted := acc.Map(t)
		inviteeID := accepted["user"].(map[string]any)["id"].(string)
		inviteeToken := accepted["token"].(map[string]any)["token"].(string)
		secrets = append(secrets, inviteeToken)

		// The admin reads the log; a member or viewer may not.
		readerInv := e.Do(t, http.MethodPost, "/api/v1/team/members", owner, map[string]any{"email": randomEmail("viewer"), "role": "viewer"}, h...)
		wantStatus(t, readerInv, http.StatusCreated, "")
		viewerInv := readerInv.Map(t)
		secrets = append(secrets, viewerInv["invitation_token"].(string))
		wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/audit-logs", inviteeToken, nil), http.StatusOK, "")

		wantStatus(t, e.Do(t, http.MethodDelete, "/api/v1/team/members/"+memberID, owner, nil, h...), http.StatusNoContent, "")

		// Organization and second factor.
		wantStatus(t, e.Do(t, http.MethodPatch, "/api/v1/organization", owner, map[string]any{"name": "Audited Ltd"}, h...), http.StatusOK, "")
		enr := e.Do(t, http.MethodPost, "/api/v1/me/2fa/enroll", owner, map[string]any{}, h...)
		wantStatus(t, enr, http.StatusOK, "")
		totpSecret := enr.Map(t)["secret"].(string)
		secrets = append(secrets, totpSecret)
		conf := e.Do(t, http.MethodPost, "/api/v1/me/2fa/confirm", owner, map[string]any{"code": totpNow(t, totpSecret)}, h...)
		wantStatus(t, conf, http.StatusOK, "")
		var rc struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		conf.Decode(t, &rc)
		secrets = append(secrets, rc.RecoveryCodes...)

		all := listAudit(t, e, owner, url.Values{"limit": {"200"}})
		byAction := map[string]auditEntry{}
		for i, en := range all.Data {
			if _, seen := byAction[en.Action]; !seen {
				byAction[en.Action] = en
			}
			if i > 0 && en.CreatedAt.After(all.Data[i-1].CreatedAt) {
				t.Fatalf("entries not newest first: %v after %v", en.CreatedAt, all.Data[i-1].CreatedAt)
			}
		}
		if all.Pagination.Total != len(all.Data) || all.Data[0].Action != "user.2fa.enable" {
			t.Fatalf("total %d, %d entries, newest %q", all.Pagination.Total, len(all.Data), all.Data[0].Action)
		}

		withToken := []string{"token.create", "token.revoke", "member.create", "member.update", "member.delete", "organization.update", "user.2fa.enroll", "user.2fa.enable"}
		withoutToken := []string{"auth.register", "auth.login", "invitation.accept"}
		for _, action := range append(withToken, withoutToken...) {
			en, ok := byAction[action]
			if !ok {
				t.Errorf("no %s entry", action)
				continue
			}
			wantActor := ownerID
			if action == "invitation.accept" {
				wantActor = inviteeID
			}
			if en.ActorUserID == nil || *en.ActorUserID != wantActor || en.IP != "127.0.0.1" || en.UserAgent != ua ||
				en.RunID != runID || en.RequestID == "" || en.CreatedAt.Before(start) {
				t.Errorf("%s entry = %+v", action, en)
			}
		}
		for _, action := range withToken {
			if en := byAction[action]; en.TokenID == nil || *en.TokenID != ownerTokenID {
				t.Errorf("%s entry has token %v, want %s", action, en.TokenID, ownerTokenID)
			}
		}
		if en := byAction["member.update"]; en.TargetType != "member" || en.TargetID != memberID ||
			!reflect.DeepEqual(en.Changes, map[string]any{"role": map[string]any{"from": "member", "to": "admin"}}) {
			t.Errorf("member.update entry = %+v", en)
		}
		if en := byAction["organization.update"]; !reflect.DeepEqual(en.Changes, map[string]any{"name": map[string]any{"from": "Audited", "to": "Audited Ltd"}}) {
			t.Errorf("organization.update changes = %v", en.Changes)
		}
		if en := byAction["auth.login"]; en.TargetID != loginToken["id"] {
			t.Errorf("auth.login targets %q, want the new token %v", en.TargetID, loginToken["id"])
		}

		t.Run("filters", func(t *testing.T) {
			cases := []struct {
				name  string
				query url.Values
				want  []string // actions, newest first
			}{
				{"action", url.Values{"action": {"member.update"}}, []string{"member.update"}},
				{"target", url.Values{"target_type": {"member"}, "target_id": {memberID}},
					[]string{"member.delete", "invitation.accept", "member.update", "member.create"}},
				{"actor", url.Values{"actor": {inviteeID}}, []string{"invitation.accept"}},
				{"actor and action", url.Values{"actor": {ownerID}, "action": {"token.revoke"}}, []string{"token.revoke"}},
				{"since in the future", url.Values{"since": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, nil},
				{"until before the start", url.Values{"until": {start.Add(-time.Hour).UTC().Format(time.RFC3339)}}, nil},
				{"window", url.Values{
					"since":     {byAction["member.update"].CreatedAt.Format(time.RFC3339Nano)},
					"until":     {byAction["member.delete"].CreatedAt.Format(time.RFC3339Nano)},
					"target_id": {memberID},
				}, []string{"invitation.accept", "member.update"}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					p := listAudit(t, e, owner, tc.query)
					var got []string
					for _, en := range p.Data {
						got = append(got, en.Action)
					}
					if !reflect.DeepEqual(got, tc.want) || p.Pagination.Total != len(tc.want) {
						t.Fatalf("got %v (total %d), want %v", got, p.Pagination.Total, tc.want)
					}
				})
			}
			p := listAudit(t, e, owner, url.Values{"limit": {"2"}, "offset": {"1"}})
			if len(p.Data) != 2 || p.Pagination.Total != all.Pagination.Total || p.Data[0].ID != all.Data[1].ID {
				t.Fatalf("page 2 of 2 = %+v", p)
			}
		})

		t.Run("bad parameters", func(t *testing.T) {
			for _, q := range []string{"since=yesterday", "until=2026-13-01T00:00:00Z", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "limit=0"} {
				resp := e.Do(t, http.MethodGet, "/api/v1/audit-logs?"+q, owner, nil, apitest.Invalid())
				wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")
				name, _, _ := strings.Cut(q, "=")
				if strings.Contains(q, "&until=") {
					name = "until"
				}
				if resp.ErrorFields(t)[name] == "" {
					t.Fatalf("%s: no message for %q: %s", q, name, resp.Body)
				}
			}
		})

		t.Run("who may read", func(t *testing.T) {
			viewerAcc := e.Do(t, http.MethodPost, "/api/v1/invitations/accept", "", map[string]any{
				"token": viewerInv["invitation_token"], "name": "Viewer", "password": "pw-" + rand.Text(),
			})
			wantStatus(t, viewerAcc, http.StatusOK, "")
			viewer := viewerAcc.Map(t)["token"].(map[string]any)["token"].(string)
			wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/audit-logs", viewer, nil), http.StatusForbidden, "insufficient_role")
			// The read ability is enough to read the log.
			ro := e.Do(t, http.MethodPost, "/api/v1/tokens", owner, map[string]any{"name": "ro", "abilities": []string{"read"}})
			wantStatus(t, ro, http.StatusCreated, "")
			wantStatus(t, e.Do(t, http.MethodGet, "/api/v1/audit-logs", ro.Map(t)["token"].(string), nil), http.StatusOK, "")
			// Another organization sees none of these entries.
			other := e.Register(t, "other")
			for _, en := range listAudit(t, e, other.Token, url.Values{"limit": {"200"}}).Data {
				if en.ActorUserID == nil || *en.ActorUserID != other.UserID {
					t.Fatalf("another organization sees %+v", en)
				}
			}
		})

		t.Run("no secrets in audit rows or logs", func(t *testing.T) {
			rows, err := e.Server.Store.SQLDB().Query(`SELECT id, organization_id, COALESCE(actor_user_id, ''), COALESCE(token_id, ''),
				ip, user_agent, action, target_type, target_id, changes, run_id, request_id FROM audit_logs`)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rows.Close() }()
			var raw strings.Builder
			n := 0
			for rows.Next() {
				cols := make([]string, 12)
				ptrs := make([]any, len(cols))
				for i := range cols {
					ptrs[i] = &cols[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				raw.WriteString(strings.Join(cols, "|") + "\n")
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n < len(withToken)+len(withoutToken) {
				t.Fatalf("only %d audit rows", n)
			}
			logs := e.Logs.String()
			if len(secrets) < 17 {
				t.Fatalf("only %d secrets collected", len(secrets))
			}
			for _, secret := range secrets {
				if strings.Contains(raw.String(), secret) {
					t.Errorf("an audit row holds the secret %q", secret)
				}
				if strings.Contains(logs, secret) {
					t.Errorf("the server log holds the secret %q", secret)
				}
			}
		})
	})
}
