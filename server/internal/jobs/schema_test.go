package jobs_test

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/chomhq/chom/migrations"
	"github.com/chomhq/chom/server/internal/store"
	"github.com/chomhq/chom/server/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the River migrations in migrations/ from River's embedded SQL")

// riverMigrationFiles maps River's migration versions onto goose migrations.
// A River upgrade that brings new versions needs a new row here, with the
// next free migration number, and a run with -update; files of versions
// already released are never rewritten by hand.
//
// PostgreSQL cannot use an enum value added in the same transaction, and
// River's version 4 adds one that version 6 uses, so the versions are split
// there: each goose file is one transaction.
var riverMigrationFiles = []struct {
	name     string
	from, to int
}{
	{"00003_create_river_schema.sql", 1, 4},
	{"00004_extend_river_schema.sql", 5, 8},
}

type riverDialect struct {
	dir        string
	migrations []rivermigrate.Migration
}

func riverDialects(t *testing.T) []riverDialect {
	t.Helper()
	sqlite, err := rivermigrate.New(riversqlite.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	return []riverDialect{
		{dir: "sqlite", migrations: sqlite.AllVersions()},
		{dir: "postgres", migrations: pg.AllVersions()},
	}
}

// TestRiverMigrationsMatchRiver fails when River's embedded migration SQL
// and the goose migrations committed in migrations/ differ, so that a River
// upgrade cannot change the queue's schema expectations silently.
func TestRiverMigrationsMatchRiver(t *testing.T) {
	for _, d := range riverDialects(t) {
		t.Run(d.dir, func(t *testing.T) {
			byVersion := map[int]rivermigrate.Migration{}
			for _, m := range d.migrations {
				byVersion[m.Version] = m
			}
			covered := 0
			for _, f := range riverMigrationFiles {
				if f.from != covered+1 {
					t.Fatalf("%s starts at River version %d, want %d: the files must cover River's versions in order", f.name, f.from, covered+1)
				}
				covered = f.to
				want, err := renderRiverMigration(byVersion, f.from, f.to)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				file := d.dir + "/" + f.name
				if *update {
					if err := os.WriteFile(filepath.Join("..", "..", "..", "migrations", d.dir, f.name), []byte(want), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				got, err := fs.ReadFile(migrations.FS, file)
				if err != nil {
					t.Fatalf("migrations/%s is missing (run this test with -update): %v", file, err)
				}
				if string(got) != want {
					t.Errorf("migrations/%s differs from River's embedded SQL for versions %d-%d; if River's released SQL changed, "+
						"add a new migration instead of editing this one (see riverMigrationFiles)", file, f.from, f.to)
				}
			}
			if latest := d.migrations[len(d.migrations)-1].Version; latest != covered {
				t.Errorf("River has migrations up to version %d but migrations/ applies only up to %d: add a row to riverMigrationFiles "+
					"with the next free migration number and run this test with -update", latest, covered)
			}
		})
	}
}

const schemaTemplate = "/* TEMPLATE: schema */"

// renderRiverMigration writes River's versions from..to as one goose
// migration, recording each version in river_migration the way River's
// own migrator does, so River's tools see the schema as migrated.
func renderRiverMigration(byVersion map[int]rivermigrate.Migration, from, to int) (string, error) {
	var up, down strings.Builder
	for v := from; v <= to; v++ {
		m, ok := byVersion[v]
		if !ok {
			return "", fmt.Errorf("River has no migration %d", v)
		}
		fmt.Fprintf(&up, "-- River %03d: %s\n", v, m.Name)
		if err := writeBlock(&up, m.SQLUp); err != nil {
			return "", fmt.Errorf("version %d up: %w", v, err)
		}
		fmt.Fprintf(&up, "%s;\n\n", recordVersion(v))
	}
	for v := to; v >= from; v-- {
		m := byVersion[v]
		fmt.Fprintf(&down, "-- River %03d: %s\n", v, m.Name)
		fmt.Fprintf(&down, "%s;\n", forgetVersion(v))
		if err := writeBlock(&down, m.SQLDown); err != nil {
			return "", fmt.Errorf("version %d down: %w", v, err)
		}
		down.WriteString("\n")
	}
	return fmt.Sprintf(`-- River's job queue schema: versions %d to %d of its main migration line,
-- generated from the SQL the River library embeds. Do not edit: the jobs
-- package's TestRiverMigrationsMatchRiver compares this file with River.
-- +goose Up
%s-- +goose Down
%s`, from, to, up.String(), strings.TrimSuffix(down.String(), "\n")), nil
}

// writeBlock adds one River migration as a single statement: River runs
// each file with one Exec, and its SQL holds semicolons inside function
// and trigger bodies.
func writeBlock(b *strings.Builder, sql string) error {
	sql = strings.TrimSpace(strings.ReplaceAll(sql, schemaTemplate, ""))
	if strings.Contains(sql, "/* TEMPLATE") {
		return fmt.Errorf("unknown template in River's SQL")
	}
	if sql == "" {
		return nil
	}
	fmt.Fprintf(b, "-- +goose StatementBegin\n%s\n-- +goose StatementEnd\n", sql)
	return nil
}

// River added river_migration.line in version 5; earlier rows have none.
func recordVersion(v int) string {
	if v < 5 {
		return fmt.Sprintf("INSERT INTO river_migration (version) VALUES (%d)", v)
	}
	return fmt.Sprintf("INSERT INTO river_migration (line, version) VALUES ('main', %d)", v)
}

func forgetVersion(v int) string {
	if v < 5 {
		return fmt.Sprintf("DELETE FROM river_migration WHERE version = %d", v)
	}
	return fmt.Sprintf("DELETE FROM river_migration WHERE line = 'main' AND version = %d", v)
}

// TestRiverMigrationsApply runs the migrations up to River's, checks River
// finds its schema complete, rolls River's part back and applies it again.
// Later migrations are left out so that only this package's are exercised.
func TestRiverMigrationsApply(t *testing.T) {
	last := riverMigrationFiles[len(riverMigrationFiles)-1].name
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			ctx := context.Background()
			st := openEmptyStore(t, dialect)
			gooseDialect, dir := goose.DialectSQLite3, "sqlite"
			if dialect == store.Postgres {
				gooseDialect, dir = goose.DialectPostgres, "postgres"
			}
			files := fstest.MapFS{}
			names, err := fs.Glob(migrations.FS, dir+"/*.sql")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if base := path.Base(name); base <= last {
					b, err := fs.ReadFile(migrations.FS, name)
					if err != nil {
						t.Fatal(err)
					}
					files[base] = &fstest.MapFile{Data: b}
				}
			}
			p, err := goose.NewProvider(gooseDialect, st.SQLDB(), files)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up: %v", err)
			}
			validateRiver(t, st)
			if _, err := p.DownTo(ctx, 2); err != nil {
				t.Fatalf("down to 2: %v", err)
			}
			var n int
			if err := st.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM operations").Scan(&n); err != nil {
				t.Fatalf("operations should survive rolling back River's schema: %v", err)
			}
			for _, table := range []string{"river_job", "river_leader", "river_queue", "river_migration"} {
				if _, err := st.SQLDB().ExecContext(ctx, "SELECT 1 FROM "+table); err == nil {
					t.Errorf("%s still exists after rolling back River's schema", table)
				}
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
			validateRiver(t, st)
		})
	}
}

// validateRiver fails unless River's own migrator finds every version applied.
func validateRiver(t *testing.T, st *store.Store) {
	t.Helper()
	var res *rivermigrate.ValidateResult
	var err error
	if st.Dialect() == store.SQLite {
		m, merr := rivermigrate.New(riversqlite.New(st.SQLDB()), nil)
		if merr != nil {
			t.Fatal(merr)
		}
		res, err = m.Validate(context.Background(), nil)
	} else {
		m, merr := rivermigrate.New(riverdatabasesql.New(st.SQLDB()), nil)
		if merr != nil {
			t.Fatal(merr)
		}
		res, err = m.Validate(context.Background(), nil)
	}
	if err != nil {
		t.Fatalf("validate River schema: %v", err)
	}
	if !res.OK {
		t.Fatalf("River finds its schema incomplete: %v", res.Messages)
	}
}

// openStore opens a migrated store on a fresh SQLite file or PostgreSQL database.
func openStore(t *testing.T, dialect store.Dialect) *store.Store { return storetest.Open(t, dialect) }

func openEmptyStore(t *testing.T, dialect store.Dialect) *store.Store {
	return storetest.OpenEmpty(t, dialect)
}
