package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Sentinel errors every repository method returns instead of driver errors.
var (
	// ErrNotFound means no row exists for the id within the tenant.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique constraint would be violated.
	ErrConflict = errors.New("conflict")
)

// translate turns driver and GORM errors into the store's sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if isUniqueViolation(err) {
		return errors.Join(ErrConflict, err)
	}
	return err
}

type sqliteCoded interface{ Code() int }

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var coded sqliteCoded
	if errors.As(err, &coded) {
		// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
		return coded.Code() == 2067 || coded.Code() == 1555
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
