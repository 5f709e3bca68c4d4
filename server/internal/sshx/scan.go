package sshx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

var errUnexpectedKey = errors.New("host key does not match the expected fingerprint")

// Scan connects to a server that has no pinned key yet and returns its host
// key, to be stored as Target.HostKey. If expectedFingerprint is set (as
// ssh-keygen -l prints it, with or without the "SHA256:" prefix), only a key
// with that fingerprint is accepted: every key type the server may hold is
// tried, and ErrHostKeyMismatch is returned if none matches.
//
// With key set, Scan also logs in as user, proving the credentials work.
// With key nil, it only captures the host key.
func (e *Executor) Scan(ctx context.Context, host string, port int, user string, key []byte, expectedFingerprint string) (HostKey, error) {
	t := Target{Host: host, Port: port, User: user}
	addr := t.addr()
	if host == "" || user == "" || port < 0 || port > 65535 {
		return HostKey{}, fmt.Errorf("scan %s: host, user and a valid port are required", addr)
	}
	var want string
	if expectedFingerprint != "" {
		var err error
		if want, err = normalizeFingerprint(expectedFingerprint); err != nil {
			return HostKey{}, fmt.Errorf("scan %s: %w", addr, err)
		}
	}
	config := ssh.ClientConfig{User: user}
	if len(key) > 0 {
		signer, err := ssh.ParsePrivateKey(key)
		if err != nil {
			return HostKey{}, fmt.Errorf("scan %s: parse private key: %w", addr, err)
		}
		config.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	}

	groups := scanAlgorithmGroups
	if want == "" {
		// Any key will do: one connection, offering every type.
		var all []string
		for _, g := range scanAlgorithmGroups {
			all = append(all, g...)
		}
		groups = [][]string{all}
	}
	var presented []string
	for _, algorithms := range groups {
		config.HostKeyAlgorithms = algorithms
		var (
			mu  sync.Mutex
			got ssh.PublicKey
		)
		check := func(k ssh.PublicKey) error {
			mu.Lock()
			defer mu.Unlock()
			if fp := Fingerprint(k); want != "" && fp != want {
				presented = append(presented, k.Type()+" "+fp)
				return errUnexpectedKey
			}
			got = k
			return nil
		}
		var client *ssh.Client
		err := e.retry(ctx, t, func() error {
			var err error
			client, err = e.connect(ctx, addr, config, check)
			return err
		})
		mu.Lock()
		accepted := got
		mu.Unlock()
		switch {
		case err == nil:
			_ = client.Close()
			return newHostKey(accepted), nil
		case accepted != nil && len(key) == 0 && errors.Is(err, ErrAuth):
			return newHostKey(accepted), nil
		case errors.Is(err, errUnexpectedKey), isNoCommonHostKeyAlgorithm(err):
			continue
		default:
			return HostKey{}, fmt.Errorf("scan %s: %w", addr, err)
		}
	}
	if want == "" {
		return HostKey{}, fmt.Errorf("scan %s: the server offers no supported host key type", addr)
	}
	if len(presented) == 0 {
		presented = []string{"none of a supported type"}
	}
	return HostKey{}, fmt.Errorf("scan %s: %w: expected %s, presented %s",
		addr, ErrHostKeyMismatch, want, strings.Join(presented, ", "))
}
