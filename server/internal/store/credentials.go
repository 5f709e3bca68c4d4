package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Credential is an API token together with what authenticating a request
// needs from the rows around it: the holder's role in the token's
// organization and whether that organization wants a second factor the
// holder lacks. Every authenticated request reads it, so it is one query.
type Credential struct {
	TokenID        string
	OrganizationID string
	UserID         string
	TokenHash      string
	Abilities      string
	ExpiresAt      *time.Time
	RevokedAt      *time.Time
	// Role is the holder's role through their active membership.
	Role        string
	Require2FA  bool `gorm:"column:require_2fa"`
	TOTPEnabled bool `gorm:"column:totp_enabled"`
}

// CredentialByTokenHash finds a token by the hash of its plaintext, with
// its holder's active membership of the token's organization, which must
// exist and not be deleted. It is the one lookup that is not tenant-scoped: it
// establishes the tenant. A token without all of these is ErrNotFound.
func (s *Store) CredentialByTokenHash(ctx context.Context, hash string) (*Credential, error) {
	var c Credential
	res := s.conn(ctx).Table("api_tokens AS t").
		Select(`t.id AS token_id, t.organization_id, t.user_id, t.token_hash, t.abilities, t.expires_at, t.revoked_at,
			m.role, o.require_2fa, COALESCE(u.totp_enabled, FALSE) AS totp_enabled`).
		Joins("JOIN memberships AS m ON m.organization_id = t.organization_id AND m.user_id = t.user_id AND m.status = 'active'").
		Joins("JOIN organizations AS o ON o.id = t.organization_id AND o.deleted_at IS NULL").
		Joins("LEFT JOIN users AS u ON u.id = t.user_id AND u.deleted_at IS NULL").
		Where("t.token_hash = ?", hash).Limit(1).Scan(&c)
	if res.Error != nil {
		return nil, fmt.Errorf("get credential: %w", translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("get credential: %w", ErrNotFound)
	}
	return &c, nil
}

// credentialTables are the tables CredentialByTokenHash reads.
var credentialTables = map[string]bool{"api_tokens": true, "memberships": true, "organizations": true, "users": true}

// authUnchanged marks a write that changes none of what
// CredentialByTokenHash returns (a token's last use, a site counted).
const authUnchanged = "chom:auth_unchanged"

// CredentialsVersion changes whenever a change to what
// CredentialByTokenHash returns is written through this Store (or any Store
// sharing its connection pool), and again once the transaction holding that
// change commits. A credential read after the version was v is current for
// as long as the version stays v, so callers may cache it against the
// version. Changes made by other processes are not seen here.
func (s *Store) CredentialsVersion() uint64 { return s.credentials.Load() }

// watchCredentials bumps version after every create, update or delete on a
// credential table. A write inside a transaction is bumped again when the
// transaction ends (Store.transaction): a reader that saw the first bump
// may have read the rows as they were before the commit.
func watchCredentials(db *gorm.DB, version *atomic.Uint64) error {
	bump := func(db *gorm.DB) {
		if !credentialTables[db.Statement.Table] {
			return
		}
		if _, keep := db.Get(authUnchanged); keep {
			return
		}
		version.Add(1)
	}
	cb := db.Callback()
	return errors.Join(
		cb.Create().After("gorm:create").Register("chom:credentials_version", bump),
		cb.Update().After("gorm:update").Register("chom:credentials_version", bump),
		cb.Delete().After("gorm:delete").Register("chom:credentials_version", bump),
	)
}
