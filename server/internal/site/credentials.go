package site

import (
	"context"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/audit"
	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/store"
)

// Credentials are how a site's application reaches its database.
type Credentials struct {
	DatabaseName     string
	DatabaseUser     string
	DatabasePassword string
	// DatabaseHost is where the database listens, seen from the VPS.
	DatabaseHost string
}

// Credentials reveals the site's database password. Every reading is
// recorded in the audit log (without the password).
func (s *Service) Credentials(ctx context.Context, orgID, id string) (*Credentials, error) {
	var out *Credentials
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		site, err := tx.Site(ctx, orgID, id)
		if errors.Is(err, store.ErrNotFound) {
			return errSiteNotFound
		}
		if err != nil {
			return err
		}
		if !HasDatabase(site.Type) {
			return problem.Conflict("no_database", "%s sites have no database, so they have no credentials", site.Type)
		}
		pw, err := s.open(site, secretDBPassword, site.DatabasePasswordSealed)
		if err != nil {
			return err
		}
		out = &Credentials{DatabaseName: site.DatabaseName, DatabaseUser: site.DatabaseUser, DatabasePassword: string(pw), DatabaseHost: "localhost"}
		return audit.Record(ctx, tx, audit.Event{
			OrgID: orgID, Action: "site.credentials.read", TargetType: TargetType, TargetID: id,
			Changes: map[string]any{"database_user": site.DatabaseUser},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("site credentials: %w", err)
	}
	return out, nil
}
