// Package storetest opens migrated stores for tests, on SQLite or on a
// scratch database of the test PostgreSQL server.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for creating scratch databases

	"github.com/chomhq/chom/server/internal/store"
)

// Open returns a store on a fresh, migrated database of the dialect,
// closed when the test ends.
func Open(t testing.TB, dialect store.Dialect) *store.Store {
	t.Helper()
	st := OpenEmpty(t, dialect)
	if _, err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// OpenEmpty is Open without the migrations.
func OpenEmpty(t testing.TB, dialect store.Dialect) *store.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "chom.db")
	if dialect == store.Postgres {
		url = PostgresDatabase(t)
	}
	st, err := store.Open(context.Background(), url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// PostgresDatabase creates a scratch database on the test PostgreSQL and
// drops it when the test ends. CHOM_TEST_POSTGRES_URL names the server
// (default the local one); CHOM_TEST_POSTGRES=skip skips instead.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	if os.Getenv("CHOM_TEST_POSTGRES") == "skip" {
		t.Skip("CHOM_TEST_POSTGRES=skip")
	}
	base := os.Getenv("CHOM_TEST_POSTGRES_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer func() { _ = admin.Close() }()
	name := "chom_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgres at %s is required for this test (set CHOM_TEST_POSTGRES=skip to skip): %v", base, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer func() { _ = db.Close() }()
		if _, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	u := strings.Replace(base, "/test?", "/"+name+"?", 1)
	if u == base {
		t.Fatalf("CHOM_TEST_POSTGRES_URL must name the database /test with query options, got %q", base)
	}
	return u
}
