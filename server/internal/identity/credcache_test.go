package identity

import (
	"context"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/store"
)

// A token whose row changes behind the process's back (as another replica
// would change it) keeps authenticating from the cache for at most the
// cache's ttl.
func TestCredentialCacheServesWithinTTL(t *testing.T) {
	ctx := context.Background()
	s, now := newTestService(t)
	s.CacheCredentials(5 * time.Second)
	_, token := registerWithToken(t, s)

	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatalf("first authentication: %v", err)
	}
	// Raw SQL bypasses the store, as a write from another process does.
	if _, err := s.store.SQLDB().ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ?", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(4 * time.Second)
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("within the ttl the cached credential should stand: %v", err)
	}
	if p.Role != auth.RoleOwner {
		t.Fatalf("cached principal has role %q", p.Role)
	}
	*now = now.Add(2 * time.Second)
	if _, err := s.Authenticate(ctx, token); problemCode(err) != "invalid_token" {
		t.Fatalf("after the ttl the revocation must be seen, got %v", err)
	}
}

func TestCredentialCacheOff(t *testing.T) {
	ctx := context.Background()
	s, now := newTestService(t)
	s.CacheCredentials(0)
	_, token := registerWithToken(t, s)
	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.SQLDB().ExecContext(ctx, "UPDATE api_tokens SET revoked_at = ?", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, token); problemCode(err) != "invalid_token" {
		t.Fatalf("with the cache off a revocation is seen at once, got %v", err)
	}
}

// Changes made through the store end cached entries at once, whether made
// in a transaction or not.
func TestCredentialCacheInvalidatedByStoreWrites(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name  string
		check func(t *testing.T, p auth.Principal, err error)
		apply func(t *testing.T, s *Service, p auth.Principal)
	}{
		{
			name: "token revoked",
			apply: func(t *testing.T, s *Service, p auth.Principal) {
				if err := s.RevokeToken(auth.WithPrincipal(ctx, p), p, p.TokenID); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ auth.Principal, err error) {
				if problemCode(err) != "invalid_token" {
					t.Fatalf("revoked token still authenticates: %v", err)
				}
			},
		},
		{
			name: "role changed",
			apply: func(t *testing.T, s *Service, p auth.Principal) {
				m, err := s.store.MembershipOfUser(ctx, p.OrgID, p.UserID)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.store.UpdateMembershipRole(ctx, p.OrgID, m.ID, string(auth.RoleViewer)); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, p auth.Principal, err error) {
				if err != nil || p.Role != auth.RoleViewer {
					t.Fatalf("got role %q (%v), want the new role viewer", p.Role, err)
				}
			},
		},
		{
			name: "member removed in a transaction",
			apply: func(t *testing.T, s *Service, p auth.Principal) {
				m, err := s.store.MembershipOfUser(ctx, p.OrgID, p.UserID)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.store.Tx(ctx, func(tx *store.Store) error { return tx.DeleteMembership(ctx, p.OrgID, m.ID) }); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, _ auth.Principal, err error) {
				if problemCode(err) != "invalid_token" {
					t.Fatalf("removed member's token still authenticates: %v", err)
				}
			},
		},
		{
			name: "organization requires a second factor",
			apply: func(t *testing.T, s *Service, p auth.Principal) {
				o, err := s.store.Organization(ctx, p.OrgID)
				if err != nil {
					t.Fatal(err)
				}
				o.Require2FA = true
				if err := s.store.UpdateOrganization(ctx, o); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, p auth.Principal, err error) {
				if err != nil || !p.SecondFactorMissing {
					t.Fatalf("principal %+v (%v) should lack the now required second factor", p, err)
				}
			},
		},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestService(t)
			s.CacheCredentials(time.Hour)
			_, token := registerWithToken(t, s)
			p, err := s.Authenticate(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			tc.apply(t, s, p)
			p, err = s.Authenticate(ctx, token)
			tc.check(t, p, err)
		})
	}
}

func registerWithToken(t *testing.T, s *Service) (*Session, string) {
	t.Helper()
	sess, err := s.Register(context.Background(), RegisterInput{
		Name: "Ada", Email: "ada@example.com", Password: "correct horse battery", OrganizationName: "Acme",
	})
	if err != nil {
		t.Fatal(err)
	}
	return sess, sess.Plaintext
}
