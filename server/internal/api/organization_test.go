package api_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/chomhq/chom/server/internal/apitest"
)

func TestOrganizationReadAndUpdate(t *testing.T) {
	apitest.Dialects(t, func(t *testing.T, e *apitest.Env) {
		te := newTeamEnv(t, e)
		admin := te.join(t, "admin")
		viewer := te.join(t, "viewer")

		org := e.Do(t, http.MethodGet, "/api/v1/organization", viewer.Token, nil)
		wantStatus(t, org, http.StatusOK, "")
		before := org.Map(t)
		if before["id"] != te.owner.OrgID || before["name"] != "acme" || before["require_2fa"] != false {
			t.Fatalf("organization = %v", before)
		}
		// /me describes the same organization the same way.
		if me := e.Do(t, http.MethodGet, "/api/v1/me", viewer.Token, nil).Map(t); !reflect.DeepEqual(me["organization"], before) {
			t.Fatalf("me.organization %v, organization %v", me["organization"], before)
		}

		for _, who := range []*teamMember{admin, viewer} {
			wantStatus(t, e.Do(t, http.MethodPatch, "/api/v1/organization", who.Token, map[string]any{"name": "Hijacked"}), http.StatusForbidden, "insufficient_role")
		}

		// An empty body changes nothing.
		resp := e.Do(t, http.MethodPatch, "/api/v1/organization", te.owner.Token, map[string]any{})
		wantStatus(t, resp, http.StatusOK, "")
		if got := resp.Map(t); !reflect.DeepEqual(got, before) {
			t.Fatalf("empty PATCH changed %v to %v", before, got)
		}

		for _, bad := range []string{"", "   ", strings.Repeat("x", 101), "tab\there"} {
			resp := e.Do(t, http.MethodPatch, "/api/v1/organization", te.owner.Token, map[string]any{"name": bad})
			wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")
			if resp.ErrorFields(t)["name"] == "" {
				t.Fatalf("name %q: %s", bad, resp.Body)
			}
		}
		resp = e.Do(t, http.MethodPatch, "/api/v1/organization", te.owner.Token, map[string]any{"require_2fa": "yes"}, apitest.Invalid())
		wantStatus(t, resp, http.StatusUnprocessableEntity, "validation_failed")

		resp = e.Do(t, http.MethodPatch, "/api/v1/organization", te.owner.Token, map[string]any{"name": "  Acme Ltd  "})
		wantStatus(t, resp, http.StatusOK, "")
		after := resp.Map(t)
		if after["name"] != "Acme Ltd" || after["require_2fa"] != false || after["updated_at"] == before["updated_at"] || after["created_at"] != before["created_at"] {
			t.Fatalf("after PATCH: %v", after)
		}
		if got := e.Do(t, http.MethodGet, "/api/v1/organization", te.owner.Token, nil).Map(t); !reflect.DeepEqual(got, after) {
			t.Fatalf("read %v, PATCH returned %v", got, after)
		}
	})
}
