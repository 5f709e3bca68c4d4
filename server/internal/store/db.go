// Package store is the persistence layer: GORM models and repositories over
// SQLite (embedded default) or PostgreSQL. Every tenant-owned query takes the
// organization id; another tenant's row is ErrNotFound, exactly like a
// missing one.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the entry point to every repository. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect Dialect
	// credentials counts committed changes to the rows authentication
	// reads; shared by every Store derived from the one Open returned.
	credentials *atomic.Uint64
}

// Open connects to databaseURL: sqlite:///path/to/file.db (or sqlite::memory:)
// or postgres://user@host:port/db.
func Open(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	dialect, dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	var sqlDB *sql.DB
	var dialector gorm.Dialector
	switch dialect {
	case SQLite:
		if path := sqliteFile(dsn); path != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("open database: %w", err)
			}
		}
		// The driver registered by glebarez/sqlite is the only SQLite driver in
		// the binary; the job queue shares this *sql.DB.
		sqlDB, err = sql.Open(sqlite.DriverName, dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		// WAL lets readers run beside the single writer; BEGIN IMMEDIATE
		// takes the write lock up front so a transaction never fails to
		// upgrade its lock ("database is locked") and waits on busy_timeout.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		dialector = sqlite.Dialector{Conn: sqlDB}
	case Postgres:
		sqlDB, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		dialector = postgres.New(postgres.Config{Conn: sqlDB})
	}
	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 newGormLogger(log),
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SkipDefaultTransaction: true,
	})
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{db: gdb, sqlDB: sqlDB, dialect: dialect, credentials: new(atomic.Uint64)}
	if err := watchCredentials(gdb, s.credentials); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

func parseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"), strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" {
			return "", "", errors.New("database url: sqlite needs a path")
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(15000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		if path == ":memory:" {
			return SQLite, "file::memory:?cache=shared&" + q.Encode(), nil
		}
		return SQLite, "file:" + path + "?" + q.Encode(), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, raw, nil
	default:
		return "", "", fmt.Errorf("database url: unsupported scheme in %q (want sqlite:// or postgres://)", redactURL(raw))
	}
}

func sqliteFile(dsn string) string {
	path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return ""
	}
	return path
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid>"
	}
	return u.Redacted()
}

// Dialect reports the database behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLDB returns the underlying *sql.DB, shared with migrations and the job queue.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Tx runs fn in one transaction; the Store passed to fn is bound to it.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return s.transaction(ctx, func(gtx *gorm.DB) error {
		return fn(&Store{db: gtx, sqlDB: s.sqlDB, dialect: s.dialect, credentials: s.credentials})
	})
}

// transaction is the one way the store opens a transaction. When it
// changed what authentication reads, the change is announced again once
// it is committed (see CredentialsVersion). Called on a Store that is
// already in a transaction, fn joins it, without a savepoint (two round
// trips): its error is the enclosing transaction's failure, never
// something to recover from inside it.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if _, inTx := s.SQLTx(); inTx {
		return fn(s.conn(ctx))
	}
	before := s.credentials.Load()
	err := s.conn(ctx).Transaction(fn)
	if s.credentials.Load() != before {
		s.credentials.Add(1)
	}
	return err
}

// SQLTx returns the *sql.Tx behind a Store handed out by Tx, for libraries
// (the job queue) that must write inside the same transaction.
func (s *Store) SQLTx() (*sql.Tx, bool) {
	tx, ok := s.db.Statement.ConnPool.(*sql.Tx)
	return tx, ok
}

func (s *Store) conn(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

type gormLogger struct {
	logger.Interface
	log *slog.Logger
}

func newGormLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		log = slog.Default()
	}
	// Query text and arguments are never logged: arguments carry hashes and
	// ciphertexts and the SQL adds nothing operators need.
	return &gormLogger{Interface: logger.Discard, log: log}
}

func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err == nil || errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, context.Canceled) {
		return
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, "database error", slog.String("error", err.Error()), slog.Duration("elapsed", time.Since(begin)))
}
