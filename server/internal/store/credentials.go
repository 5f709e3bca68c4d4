package store

import (
	"context"
	"fmt"
	"time"
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
