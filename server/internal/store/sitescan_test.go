package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/schema"

	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

// TestScanSiteMatchesModel holds the hand-written site scanner to the
// model: it reads every column GORM maps, and a site read either way is
// the same, every field set.
func TestScanSiteMatchesModel(t *testing.T) {
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, dialect)

			model, err := schema.Parse(&store.Site{}, &sync.Map{}, st.GormDB().NamingStrategy)
			if err != nil {
				t.Fatal(err)
			}
			var scanned []string
			for _, c := range strings.Split(store.SiteColumns, ",") {
				scanned = append(scanned, strings.TrimPrefix(strings.TrimSpace(c), "sites."))
			}
			want := slices.Clone(model.DBNames)
			slices.Sort(want)
			slices.Sort(scanned)
			if !slices.Equal(scanned, want) {
				t.Fatalf("the scanner reads %v, the model has %v", scanned, want)
			}

			org := &store.Organization{ID: store.NewID(), Name: "Acme", MaxSites: 10}
			if err := st.CreateOrganization(ctx, org); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			before, after := now.Add(-time.Hour), now.Add(90*24*time.Hour)
			full := &store.Site{
				ID: store.NewID(), OrganizationID: org.ID, VPSID: store.NewID(), Domain: "full.example.com",
				Aliases: []string{"www.full.example.com", "shop.full.example.com"}, Type: "laravel", PHPVersion: "8.2",
				GitRepository: "https://git.example.com/app.git", GitBranch: "main", EnvironmentSealed: "env-sealed",
				HTTPS: true, Suspended: true, Status: store.SiteSuspended, SystemUser: "s_full", DatabaseName: "db_full",
				DatabaseUser: "u_full", DatabasePasswordSealed: "pw-sealed", AppSecretsSealed: "app-sealed",
				CertificateSource: store.CertificateACME, CertificateSealed: "cert-sealed", CertificateIssuer: "Test CA",
				CertificateDomains: []string{"full.example.com"}, CertificateNotBefore: &before, CertificateNotAfter: &after,
				CertificateError: "none", CreatedAt: now, UpdatedAt: now.Add(time.Second),
			}
			bare := &store.Site{
				ID: store.NewID(), OrganizationID: org.ID, VPSID: full.VPSID, Domain: "bare.example.com", Type: "html",
				Status: store.SiteActive, SystemUser: "s_bare", CreatedAt: now.Add(time.Minute), UpdatedAt: now.Add(time.Minute),
			}
			for _, s := range []*store.Site{full, bare} {
				if err := st.CreateSite(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []*store.Site{full, bare} {
				var byGORM store.Site
				if err := st.GormDB().Where("id = ?", s.ID).Take(&byGORM).Error; err != nil {
					t.Fatal(err)
				}
				got, err := st.Site(ctx, org.ID, s.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(*got, byGORM) {
					t.Fatalf("scanned:\n%+v\nGORM:\n%+v", *got, byGORM)
				}
			}
			var listedByGORM []store.Site
			if err := st.GormDB().Where("organization_id = ?", org.ID).Order("created_at, id").Find(&listedByGORM).Error; err != nil {
				t.Fatal(err)
			}
			listed, total, err := st.ListSites(ctx, org.ID, store.SiteFilter{}, store.Page{Limit: 50})
			if err != nil || total != 2 {
				t.Fatalf("list: %d %v", total, err)
			}
			if !reflect.DeepEqual(listed, listedByGORM) {
				t.Fatalf("listed:\n%+v\nGORM:\n%+v", listed, listedByGORM)
			}
			if full.CertificateNotAfter == nil || listed[0].CertificateNotAfter == nil || !listed[0].CertificateNotAfter.Equal(after) {
				t.Fatalf("certificate expiry read back as %v", listed[0].CertificateNotAfter)
			}
		})
	}
}
