package team

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
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// newTestService returns the service over a fresh SQLite database, an
// owner principal of a new organization, and the clock the test controls.
func newTestService(t *testing.T) (*Service, auth.Principal, *time.Time) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := storetest.Open(t, store.SQLite)
	box, err := secrets.New(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ident := identity.New(st, auth.NewHasher(1), box, config.Limits{Sites: 1, VPS: 1, Backups: 1, StorageBytes: 1}, time.Hour, log)
	sess, err := ident.Register(ctx, identity.RegisterInput{Name: "Ada", Email: "ada@example.com", Password: "correct horse battery", OrganizationName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	s := New(st, ident)
	now := time.Now().UTC().Truncate(time.Microsecond)
	s.now = func() time.Time { return now }
	p := auth.Principal{UserID: sess.User.ID, OrgID: sess.Organization.ID, TokenID: sess.Token.ID, Role: auth.RoleOwner, Abilities: auth.Abilities}
	return s, p, &now
}

func TestInvitationExpiresAfterSevenDays(t *testing.T) {
	tests := []struct {
		name    string
		after   time.Duration
		wantErr bool
	}{
		{"just before expiry", InvitationTTL - time.Microsecond, false},
		{"at expiry", InvitationTTL, true},
		{"long after", 30 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, now := newTestService(t)
			ctx := auth.WithPrincipal(context.Background(), p)
			m, token, err := s.Add(ctx, p, AddInput{Email: " Grace@Example.COM "})
			if err != nil {
				t.Fatal(err)
			}
			if m.Email != "grace@example.com" || m.Role != string(auth.RoleMember) || m.Status != StatusPending {
				t.Fatalf("invitation = %+v", m)
			}
			if !strings.HasPrefix(token, invitationPrefix) || *m.InvitationTokenHash != auth.HashSecret(token) {
				t.Fatalf("token %q is not stored as its hash", token)
			}
			*now = now.Add(tt.after)
			_, err = s.Accept(context.Background(), AcceptInput{Token: token, Name: "Grace", Password: "a long password"})
			if tt.wantErr != errors.Is(err, errInvitationNotFound) || (!tt.wantErr && err != nil) {
				t.Fatalf("accept after %v: %v", tt.after, err)
			}
		})
	}
}

func TestChangeRoleWithoutChangeWritesNothing(t *testing.T) {
	s, p, _ := newTestService(t)
	ctx := auth.WithPrincipal(context.Background(), p)
	m, _, err := s.Add(ctx, p, AddInput{Email: "viewer@example.com", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	_, before, err := s.store.ListAuditLogs(ctx, p.OrgID, store.AuditFilter{}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ChangeRole(ctx, p, m.ID, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(m.UpdatedAt) {
		t.Fatalf("updated_at moved from %v to %v", m.UpdatedAt, got.UpdatedAt)
	}
	if _, after, _ := s.store.ListAuditLogs(ctx, p.OrgID, store.AuditFilter{}, store.Page{Limit: 100}); after != before {
		t.Fatalf("audit entries went from %d to %d for a no-op", before, after)
	}
}
