package sshx

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Target identifies a managed server and how to log in to it.
type Target struct {
	Host string
	Port int // 22 when zero
	User string
	// PrivateKey is a PEM or OpenSSH private key without passphrase. It is
	// never logged or printed.
	PrivateKey []byte
	// HostKey is the pinned server key in authorized_keys format, as
	// returned by Scan. Any other key is refused.
	HostKey string
}

func (t Target) port() int {
	if t.Port == 0 {
		return 22
	}
	return t.Port
}

func (t Target) addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.port())) }

// String returns user@host:port; the private key is left out.
func (t Target) String() string { return t.User + "@" + t.addr() }

// GoString keeps %#v from printing the private key.
func (t Target) GoString() string { return "sshx.Target{" + t.String() + "}" }

// LogValue keeps the private key out of structured logs.
func (t Target) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", t.Host),
		slog.Int("port", t.port()),
		slog.String("user", t.User),
	)
}

func (t Target) validate() error {
	switch {
	case t.Host == "":
		return errors.New("target has no host")
	case t.Port < 0 || t.Port > 65535:
		return fmt.Errorf("target port %d out of range", t.Port)
	case t.User == "":
		return errors.New("target has no user")
	case len(t.PrivateKey) == 0:
		return errors.New("target has no private key")
	case strings.TrimSpace(t.HostKey) == "":
		return fmt.Errorf("no pinned host key for %s: scan the server first", t)
	}
	return nil
}

// HostKey is a server's public host key as captured by Scan.
type HostKey struct {
	Key         string // authorized_keys format, e.g. "ssh-ed25519 AAAA..."
	Fingerprint string // "SHA256:...", as ssh-keygen -l prints it
}

func newHostKey(k ssh.PublicKey) HostKey {
	return HostKey{
		Key:         strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))),
		Fingerprint: Fingerprint(k),
	}
}

// Fingerprint returns the SHA256 fingerprint of k in the form ssh-keygen
// prints: "SHA256:" followed by unpadded base64.
func Fingerprint(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }

// parseHostKey reads a pinned key in authorized_keys format.
func parseHostKey(s string) (ssh.PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("parse pinned host key: %w", err)
	}
	if _, ok := k.(*ssh.Certificate); ok {
		return nil, errors.New("parse pinned host key: certificates cannot be pinned")
	}
	return k, nil
}

// normalizeFingerprint accepts "SHA256:xxx", bare "xxx", padded base64, or a
// whole `ssh-keygen -l` line, and returns "SHA256:xxx".
func normalizeFingerprint(s string) (string, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return "", errors.New("empty fingerprint")
	}
	fp := fields[0]
	for _, f := range fields {
		if strings.HasPrefix(f, "SHA256:") {
			fp = f
			break
		}
	}
	fp = strings.TrimRight(strings.TrimPrefix(fp, "SHA256:"), "=")
	if sum, err := base64.RawStdEncoding.DecodeString(fp); err != nil || len(sum) != 32 {
		return "", fmt.Errorf("invalid fingerprint %q: want SHA256:<base64 of 32 bytes>", s)
	}
	return "SHA256:" + fp, nil
}

// hostKeyAlgorithms lists what to offer in the handshake so that the server
// presents the pinned key. Left to its defaults, the client prefers ECDSA and
// RSA over Ed25519 and would reject a perfectly good server that also holds a
// key of a preferred type.
func hostKeyAlgorithms(k ssh.PublicKey) []string {
	if k.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{k.Type()}
}

// pinnedKeyCheck refuses any key other than pinned.
func pinnedKeyCheck(addr string, pinned ssh.PublicKey) func(ssh.PublicKey) error {
	want := pinned.Marshal()
	return func(got ssh.PublicKey) error {
		if bytes.Equal(got.Marshal(), want) {
			return nil
		}
		return fmt.Errorf("%w: the host key of %s changed: expected %s, presented %s %s; "+
			"if the server was reinstalled, scan and pin its new key",
			ErrHostKeyMismatch, addr, Fingerprint(pinned), got.Type(), Fingerprint(got))
	}
}

// scanAlgorithmGroups are the host key types Scan asks for, one group per
// key a server may hold, in order of preference.
var scanAlgorithmGroups = [][]string{
	{ssh.KeyAlgoED25519},
	{ssh.KeyAlgoECDSA256},
	{ssh.KeyAlgoECDSA384},
	{ssh.KeyAlgoECDSA521},
	{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA},
}
