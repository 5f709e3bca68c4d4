package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestScan(t *testing.T) {
	ed, _ := newEd25519Key(t)
	f := newFixture(t, testRSAKey(), ed)
	e := newTestExecutor(t, Options{})
	edFP := Fingerprint(ed.PublicKey())
	rsaFP := Fingerprint(testRSAKey().PublicKey())

	for _, tc := range []struct {
		name     string
		key      []byte
		expected string
		want     ssh.PublicKey
	}{
		{"prefers ed25519", f.clientKey, "", ed.PublicKey()},
		{"expected ed25519", f.clientKey, edFP, ed.PublicKey()},
		{"expected rsa without prefix", f.clientKey, strings.TrimPrefix(rsaFP, "SHA256:"), testRSAKey().PublicKey()},
		{"ssh-keygen line", f.clientKey, "3072 " + rsaFP + " root@host (RSA)", testRSAKey().PublicKey()},
		{"without login", nil, "", ed.PublicKey()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Scan(t.Context(), f.srv.host, f.srv.port, "deploy", tc.key, tc.expected)
			if err != nil {
				t.Fatal(err)
			}
			if got.Key != authorizedKey(tc.want) || got.Fingerprint != Fingerprint(tc.want) {
				t.Errorf("got %+v, want %s", got, Fingerprint(tc.want))
			}
		})
	}

	t.Run("pinned result works", func(t *testing.T) {
		hk, err := e.Scan(t.Context(), f.srv.host, f.srv.port, "deploy", f.clientKey, rsaFP)
		if err != nil {
			t.Fatal(err)
		}
		target := f.target()
		target.HostKey = hk.Key
		if _, err := e.Run(t.Context(), target, Command{Args: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestScanRefusesUnexpectedKey(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	other, _ := newEd25519Key(t)
	want := Fingerprint(other.PublicKey())

	_, err := e.Scan(t.Context(), f.srv.host, f.srv.port, "deploy", f.clientKey, want)
	if !errors.Is(err, ErrHostKeyMismatch) || IsRetryable(err) {
		t.Fatalf("want permanent ErrHostKeyMismatch, got %v", err)
	}
	for _, s := range []string{want, Fingerprint(f.hostKey.PublicKey())} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %s: %v", s, err)
		}
	}
}

func TestScanReportsAuthFailure(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	_, wrongKey := newEd25519Key(t)

	if _, err := e.Scan(t.Context(), f.srv.host, f.srv.port, "deploy", wrongKey, ""); !errors.Is(err, ErrAuth) {
		t.Fatalf("want ErrAuth, got %v", err)
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	const b64 = "nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{"SHA256:" + b64, "SHA256:" + b64, false},
		{b64, "SHA256:" + b64, false},
		{b64 + "=", "SHA256:" + b64, false},
		{"  SHA256:" + b64 + "\n", "SHA256:" + b64, false},
		{"256 SHA256:" + b64 + " root@web (ED25519)", "SHA256:" + b64, false},
		{"MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", "", true},
		{"SHA256:tooshort", "", true},
		{"", "", true},
	} {
		got, err := normalizeFingerprint(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("normalizeFingerprint(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	ed, _ := newEd25519Key(t)
	for _, tc := range []struct {
		key  ssh.PublicKey
		want []string
	}{
		{ed.PublicKey(), []string{"ssh-ed25519"}},
		{testRSAKey().PublicKey(), []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{testECDSAKey().PublicKey(), []string{"ecdsa-sha2-nistp256"}},
	} {
		if got := hostKeyAlgorithms(tc.key); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v, want %v", tc.key.Type(), got, tc.want)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unreachable", errors.Join(ErrUnreachable, errors.New("x")), true},
		{"connection lost", ErrConnectionLost, true},
		{"auth", ErrAuth, false},
		{"host key", ErrHostKeyMismatch, false},
		{"exit", &ExitError{Status: 1}, false},
		{"NUL", ErrNULInArgument, false},
		{"closed", ErrClosed, false},
		{"canceled", context.Canceled, false},
		{"deadline", fmt.Errorf("run: %w", context.DeadlineExceeded), false},
		{"unknown", errors.New("something"), false},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"DNS name not found", fmt.Errorf("%w: %w", ErrUnreachable, &net.DNSError{Err: "no such host", IsNotFound: true}), false},
		{"exit wrapped with unreachable text", fmt.Errorf("upload: %w", &ExitError{Status: 2}), false},
	} {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("%s: IsRetryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
