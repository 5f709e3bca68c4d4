package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// Site slots follow max_sites exactly, and the migration that introduced
// the count starts it from the sites already there.
func TestSiteSlots(t *testing.T) {
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, dialect)
			org := &store.Organization{ID: store.NewID(), Name: "Acme", MaxSites: 2}
			if err := st.CreateOrganization(ctx, org); err != nil {
				t.Fatal(err)
			}
			take := func(want bool) {
				t.Helper()
				if ok, err := st.TakeSiteSlot(ctx, org.ID); err != nil || ok != want {
					t.Fatalf("take site slot: %v %v, want %v", ok, err, want)
				}
			}
			version := st.CredentialsVersion()
			take(true)
			take(true)
			take(false)
			if err := st.ReleaseSiteSlot(ctx, org.ID); err != nil {
				t.Fatal(err)
			}
			take(true)
			take(false)
			if v := st.CredentialsVersion(); v != version {
				t.Fatal("counting sites moved the credentials version")
			}

			// Down one migration and up again: the count is rebuilt from
			// the sites table.
			now := time.Now().UTC()
			for i := range 3 {
				site := &store.Site{
					ID: store.NewID(), OrganizationID: org.ID, VPSID: "v", Domain: fmt.Sprintf("s%d.example.com", i),
					Type: "html", Status: store.SiteActive, SystemUser: fmt.Sprintf("u%d", i), CreatedAt: now, UpdatedAt: now,
				}
				if err := st.CreateSite(ctx, site); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.MigrateDown(ctx, false); err != nil {
				t.Fatal(err)
			}
			if _, err := st.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := st.Organization(ctx, org.ID)
			if err != nil || got.SitesCount != 3 {
				t.Fatalf("sites counted after the migration: %d %v, want 3", got.SitesCount, err)
			}
		})
	}
}
