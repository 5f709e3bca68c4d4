package site

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/chomhq/chom/server/internal/auth"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/store"
)

// Names of a site's sealed values, which bind each ciphertext to its row
// and use (store.SiteSecretContext).
const (
	secretDBPassword  = "db_password"
	secretApp         = "app_secrets"
	secretEnvironment = "environment"
	secretCertificate = "certificate"
)

// appSecrets are what an application's configuration needs besides the
// database password, generated once by the control plane so that every
// re-render of the configuration writes the same values.
type appSecrets struct {
	WordPressSalts map[string]string `json:"wordpress_salts,omitempty"`
	// LaravelAppKey is used when the site's environment sets no APP_KEY.
	LaravelAppKey string `json:"laravel_app_key,omitempty"`
}

func newAppSecrets(siteType string) appSecrets {
	var a appSecrets
	switch siteType {
	case provision.SiteWordPress:
		a.WordPressSalts = make(map[string]string, len(provision.WordPressSaltNames))
		for _, name := range provision.WordPressSaltNames {
			a.WordPressSalts[name] = auth.NewSecret("") + auth.NewSecret("")
		}
	case provision.SiteLaravel:
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand never fails
		a.LaravelAppKey = "base64:" + base64.StdEncoding.EncodeToString(key)
	}
	return a
}

// newDatabasePassword returns 52 random letters and digits (256 bits).
func newDatabasePassword() string { return auth.NewSecret("") }

// storedCertificate is the sealed form of a site's certificate.
type storedCertificate struct {
	CertPEM  string `json:"cert_pem"`
	ChainPEM string `json:"chain_pem"`
	KeyPEM   string `json:"key_pem"`
}

// fullChain is the leaf followed by its chain, as nginx wants it.
func (c storedCertificate) fullChain() []byte { return []byte(c.CertPEM + c.ChainPEM) }

func (s *Service) seal(site *store.Site, name string, plaintext []byte) string {
	return s.Box.Seal(plaintext, store.SiteSecretContext(site.ID, name))
}

func (s *Service) sealJSON(site *store.Site, name string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", name, err)
	}
	return s.seal(site, name, b), nil
}

func (s *Service) open(site *store.Site, name, sealed string) ([]byte, error) {
	b, err := s.Box.Open(sealed, store.SiteSecretContext(site.ID, name))
	if err != nil {
		return nil, fmt.Errorf("open the %s of site %s: %w", name, site.ID, err)
	}
	return b, nil
}

func (s *Service) openJSON(site *store.Site, name, sealed string, dst any) error {
	b, err := s.open(site, name, sealed)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("open the %s of site %s: %w", name, site.ID, err)
	}
	return nil
}

// environment opens a Laravel site's variables; none is an empty map.
func (s *Service) environment(site *store.Site) (map[string]string, error) {
	env := map[string]string{}
	if site.EnvironmentSealed == "" {
		return env, nil
	}
	if err := s.openJSON(site, secretEnvironment, site.EnvironmentSealed, &env); err != nil {
		return nil, err
	}
	return env, nil
}
