package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// newKey generates an ECDSA P-256 key, which every current client and CA
// accepts and which makes a far smaller handshake than RSA.
func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

// encodeKey returns key as a PKCS #8 "PRIVATE KEY" PEM block.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseKey reads the first private key in data: PKCS #8, SEC 1 ("EC PRIVATE
// KEY") or PKCS #1 ("RSA PRIVATE KEY"). Error messages never quote the
// input, which is secret.
func parseKey(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		if block.Headers["Proc-Type"] != "" {
			return nil, errors.New("the private key is encrypted; provide it without a passphrase")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; provide it without a passphrase")
		default:
			// Bundles often carry EC PARAMETERS or certificates next to
			// the key.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("the %s block is not a valid private key", block.Type)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
		return signer, nil
	}
}

// parseAccountKey reads an ACME account key; x/crypto/acme signs with
// ECDSA and RSA only.
func parseAccountKey(data []byte) (crypto.Signer, error) {
	key, err := parseKey(data)
	if err != nil {
		return nil, err
	}
	switch key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		return key, nil
	case ed25519.PrivateKey:
		return nil, errors.New("ed25519 account keys are not supported by ACME servers; use ECDSA or RSA")
	default:
		return nil, fmt.Errorf("unsupported account key type %T", key)
	}
}

// publicKeysEqual reports whether two public keys are the same key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
