package identity

import (
	"context"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/chomhq/chom/server/internal/store"
)

// credentialCache keeps recently used credentials for a short time, so an
// authenticated request costs no query of its own. An entry stands only
// while the store's credentials version is the one it was read under: a
// token revoked, a member removed or demoted, or a second factor required
// through this process ends it at once. Changes made by another process (a
// second replica, the admin command) are seen once the entry is ttl old.
type credentialCache struct {
	ttl     time.Duration
	entries *lru.Cache[string, cachedCredential]
}

type cachedCredential struct {
	credential *store.Credential
	version    uint64
	readAt     time.Time
}

// credentialCacheSize bounds the cache: the tokens in use within a ttl.
const credentialCacheSize = 10_000

func newCredentialCache(ttl time.Duration) *credentialCache {
	if ttl <= 0 {
		return nil
	}
	entries, err := lru.New[string, cachedCredential](credentialCacheSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &credentialCache{ttl: ttl, entries: entries}
}

// credential returns the credential for a token hash, from the cache when
// a current entry is there.
func (s *Service) credential(ctx context.Context, hash string, now time.Time) (*store.Credential, error) {
	c := s.credentials
	if c == nil {
		return s.store.CredentialByTokenHash(ctx, hash)
	}
	version := s.store.CredentialsVersion()
	if e, ok := c.entries.Get(hash); ok && e.version == version && now.Sub(e.readAt) < c.ttl {
		return e.credential, nil
	}
	// The version is taken before the read: a change committed while the
	// query runs leaves the entry already stale.
	cred, err := s.store.CredentialByTokenHash(ctx, hash)
	if err != nil {
		// Unknown tokens are not remembered: they would let anyone fill
		// the cache, and a token may become valid (a membership accepted).
		c.entries.Remove(hash)
		return nil, err
	}
	c.entries.Add(hash, cachedCredential{credential: cred, version: version, readAt: now})
	return cred, nil
}
