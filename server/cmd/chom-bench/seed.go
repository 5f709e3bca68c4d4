package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/config"
	"github.com/chomhq/chom/server/internal/identity"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/secrets"
	"github.com/chomhq/chom/server/internal/store"
)

// tenant is one seeded organization: its owner's API token, its server
// and its sites.
type tenant struct {
	OrgID   string
	Token   string
	VPSID   string
	SiteIDs []string
}

// seed fills an empty, migrated database with tenants organizations of
// sitesEach html sites each. Owners and their tokens are registered the
// way the API registers them (argon2id password, hashed token); servers
// and sites are inserted through the store, which is what makes 10,000
// sites quick to load. Every server is active with room to spare, and
// points at an address the server refuses to dial, so operations started
// by the benchmark fail at once instead of reaching anything.
func seed(ctx context.Context, st *store.Store, box *secrets.Box, tenants, sitesEach int) ([]tenant, error) {
	ident := identity.New(st, auth.NewHasher(2), box, config.Limits{
		Sites: int64(sitesEach) + 1_000_000, VPS: 10, Backups: 10, StorageBytes: 1 << 30,
	}, 0, slog.New(slog.DiscardHandler))
	out := make([]tenant, 0, tenants)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	for i := range tenants {
		sess, err := ident.Register(ctx, identity.RegisterInput{
			Name: fmt.Sprintf("Owner %d", i), Email: fmt.Sprintf("owner%d@bench.example.com", i),
			Password: auth.NewSecret(""), OrganizationName: fmt.Sprintf("Tenant %d", i),
		})
		if err != nil {
			return nil, fmt.Errorf("seed tenant %d: %w", i, err)
		}
		t := tenant{OrgID: sess.Organization.ID, Token: sess.Plaintext, SiteIDs: make([]string, 0, sitesEach)}
		err = st.Tx(ctx, func(tx *store.Store) error {
			v := &store.VPS{
				ID: store.NewID(), OrganizationID: t.OrgID, Name: "bench", Host: "0.0.0.0", Port: 22, SSHUser: "root",
				Capacity: sitesEach + 100_000, SitesAllocated: sitesEach, Status: store.VPSActive,
				PHPVersions: []string{"8.2"}, CreatedAt: base, UpdatedAt: base,
			}
			v.SSHKeySealed = box.Seal([]byte("not a key"), store.VPSKeyContext(v.ID))
			if err := tx.CreateVPS(ctx, v); err != nil {
				return err
			}
			t.VPSID = v.ID
			for j := range sitesEach {
				id := store.NewID()
				name, err := provision.SiteName(id)
				if err != nil {
					return err
				}
				at := base.Add(time.Duration(j) * time.Millisecond)
				s := &store.Site{
					ID: id, OrganizationID: t.OrgID, VPSID: v.ID, Domain: fmt.Sprintf("s%d.t%d.bench.example.com", j, i),
					Type: provision.SiteHTML, Status: store.SiteActive, SystemUser: name, CreatedAt: at, UpdatedAt: at,
				}
				ok, err := tx.TakeSiteSlot(ctx, t.OrgID)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("tenant %d is at its site quota", i)
				}
				if err := tx.CreateSite(ctx, s); err != nil {
					return err
				}
				t.SiteIDs = append(t.SiteIDs, id)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("seed sites of tenant %d: %w", i, err)
		}
		out = append(out, t)
	}
	return out, nil
}
