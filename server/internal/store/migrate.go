package store

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/chomhq/chom/migrations"
)

// MigrationStatus is one row of `migrate status`.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

func (s *Store) migrator() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	dir := "sqlite"
	if s.dialect == Postgres {
		dialect, dir = goose.DialectPostgres, "postgres"
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.sqlDB, sub)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration and returns how many ran.
func (s *Store) MigrateUp(ctx context.Context) (int, error) {
	p, err := s.migrator()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	return len(res), nil
}

// MigrateDown rolls back the newest migration; with all set, every migration.
func (s *Store) MigrateDown(ctx context.Context, all bool) (int, error) {
	p, err := s.migrator()
	if err != nil {
		return 0, err
	}
	if all {
		res, err := p.DownTo(ctx, 0)
		if err != nil {
			return len(res), fmt.Errorf("migrate down: %w", err)
		}
		return len(res), nil
	}
	if _, err := p.Down(ctx); err != nil {
		return 0, fmt.Errorf("migrate down: %w", err)
	}
	return 1, nil
}

// MigrationStatus lists every known migration and whether it is applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.migrator()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{Version: m.Source.Version, Name: m.Source.Path, Applied: m.State == goose.StateApplied})
	}
	return out, nil
}
