package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// The credentials version moves on every write to what authentication
// reads, once more when the transaction holding the write commits, and not
// for a token's last use.
func TestCredentialsVersion(t *testing.T) {
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, dialect)
			org := &store.Organization{ID: store.NewID(), Name: "Acme"}
			user := &store.User{ID: store.NewID(), Name: "Ada", Email: "ada@example.com", PasswordHash: "x"}
			tok := &store.APIToken{ID: store.NewID(), OrganizationID: org.ID, UserID: user.ID, Name: "t", TokenHash: "h", Abilities: "read"}
			v0 := st.CredentialsVersion()
			if err := st.CreateOrganization(ctx, org); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateUser(ctx, user); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			v1 := st.CredentialsVersion()
			if v1 == v0 {
				t.Fatal("creating credential rows left the version unchanged")
			}

			if err := st.TouchToken(ctx, tok.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if v := st.CredentialsVersion(); v != v1 {
				t.Fatalf("recording a token's use moved the version %d → %d", v1, v)
			}

			var inside uint64
			err := st.Tx(ctx, func(tx *store.Store) error {
				if err := tx.RevokeToken(ctx, org.ID, tok.ID, time.Now()); err != nil {
					return err
				}
				inside = tx.CredentialsVersion()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if inside == v1 {
				t.Fatal("a revocation inside a transaction left the version unchanged")
			}
			if after := st.CredentialsVersion(); after == inside {
				t.Fatal("the commit of a transaction that changed credentials did not move the version again")
			}

			before := st.CredentialsVersion()
			if err := st.Tx(ctx, func(tx *store.Store) error {
				_, err := tx.Organization(ctx, org.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if v := st.CredentialsVersion(); v != before {
				t.Fatalf("a read-only transaction moved the version %d → %d", before, v)
			}
		})
	}
}
