// Package secrets encrypts credentials at rest (private keys, TOTP secrets,
// database passwords, certificates) with AES-256-GCM under the master key.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of the master key in bytes.
const KeySize = 32

// prefix versions the ciphertext format so the scheme can evolve.
const prefix = "v1:"

// ErrDecrypt is returned when a ciphertext cannot be opened: wrong key,
// tampering or corruption.
var ErrDecrypt = errors.New("decrypt secret: authentication failed")

// Box seals and opens secrets. The zero value is not usable; use New.
type Box struct {
	aead   cipher.AEAD
	master []byte
}

// New returns a Box for a 32-byte master key.
func New(masterKey []byte) (*Box, error) {
	if len(masterKey) != KeySize {
		return nil, fmt.Errorf("master key: want %d bytes, got %d", KeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Box{aead: aead, master: append([]byte(nil), masterKey...)}, nil
}

// Seal encrypts plaintext. The context binds the ciphertext to its use
// (for example "vps/<id>/ssh_key") so a value copied to another row fails to open.
func (b *Box) Seal(plaintext []byte, context string) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("secrets: read random nonce: %v", err))
	}
	out := b.aead.Seal(nonce, nonce, plaintext, []byte(context))
	return prefix + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value produced by Seal with the same context.
func (b *Box) Open(ciphertext, context string) ([]byte, error) {
	raw, ok := strings.CutPrefix(ciphertext, prefix)
	if !ok {
		return nil, ErrDecrypt
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return nil, ErrDecrypt
	}
	plain, err := b.aead.Open(nil, data[:b.aead.NonceSize()], data[b.aead.NonceSize():], []byte(context))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// DeriveKey derives an independent 32-byte key for a named purpose (for
// example backup encryption), so no two subsystems share key material.
func (b *Box) DeriveKey(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, b.master, nil, "chom "+purpose, KeySize)
	if err != nil {
		panic(fmt.Sprintf("secrets: derive key: %v", err))
	}
	return key
}

// LoadMasterKey decodes a base64 master key, or when encoded is empty loads
// (creating on first use, mode 0600) the key file in dataDir.
func LoadMasterKey(encoded, dataDir string) ([]byte, error) {
	if encoded != "" {
		key, err := decodeKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("CHOM_MASTER_KEY: %w", err)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, "master.key")
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := decodeKey(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadMasterKey("", dataDir)
		}
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	return key, nil
}

func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("want %d bytes, got %d", KeySize, len(key))
	}
	return key, nil
}
