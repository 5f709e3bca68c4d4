package certs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/chomhq/chom/server/internal/sshx"
)

// ChallengeSolver makes an HTTP-01 key authorization reachable at
// http://<domain>/.well-known/acme-challenge/<token> and withdraws it.
// Obtain calls CleanUp after every Present, even one that failed, and does
// so with a context that outlives a cancelled issuance.
type ChallengeSolver interface {
	Present(ctx context.Context, domain, token, keyAuth string) error
	CleanUp(ctx context.Context, domain, token string) error
}

// Runner is the part of *sshx.Executor that SSHSolver uses.
type Runner interface {
	Run(ctx context.Context, t sshx.Target, cmd sshx.Command) (sshx.Result, error)
	Upload(ctx context.Context, t sshx.Target, f sshx.File) error
}

// SSHSolver publishes key authorizations as files on a managed server whose
// nginx maps /.well-known/acme-challenge/ onto Dir for every site:
//
//	location ^~ /.well-known/acme-challenge/ {
//	    alias /var/lib/chom/acme-challenge/;
//	    default_type text/plain;
//	}
//
// Tokens are random and unique, so one Dir serves all sites on the server.
type SSHSolver struct {
	Runner Runner
	Target sshx.Target
	// Dir is the absolute directory that holds one file per token. It is
	// created when missing.
	Dir string
}

var _ ChallengeSolver = SSHSolver{}

// tokenPattern is the base64url alphabet RFC 8555 prescribes for tokens. A
// token becomes a file name, so nothing else (no '/', no "..") may pass.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Present uploads keyAuth to Dir/<token>, readable by the web server.
func (s SSHSolver) Present(ctx context.Context, domain, token, keyAuth string) error {
	file, err := s.file(token)
	if err != nil {
		return fmt.Errorf("present challenge: %w", err)
	}
	// Only the last component gets mode 0755; the parents are expected to
	// be traversable already, as /var/lib is.
	mkdir := sshx.Command{Args: []string{"mkdir", "-p", "-m", "0755", "--", s.Dir}}
	if _, err := s.Runner.Run(ctx, s.Target, mkdir); err != nil {
		return fmt.Errorf("present challenge: create %s: %w", s.Dir, err)
	}
	err = s.Runner.Upload(ctx, s.Target, sshx.File{
		Path:    file,
		Mode:    0o644,
		Content: strings.NewReader(keyAuth),
	})
	if err != nil {
		return fmt.Errorf("present challenge: %w", err)
	}
	return nil
}

// CleanUp removes Dir/<token>; a file that is already gone is no error.
func (s SSHSolver) CleanUp(ctx context.Context, domain, token string) error {
	file, err := s.file(token)
	if err != nil {
		return fmt.Errorf("clean up challenge: %w", err)
	}
	rm := sshx.Command{Args: []string{"rm", "-f", "--", file}}
	if _, err := s.Runner.Run(ctx, s.Target, rm); err != nil {
		return fmt.Errorf("clean up challenge: %w", err)
	}
	return nil
}

// file returns the path of the file serving token.
func (s SSHSolver) file(token string) (string, error) {
	switch {
	case s.Runner == nil:
		return "", errors.New("ssh solver has no runner")
	case !path.IsAbs(s.Dir) || path.Clean(s.Dir) != s.Dir || s.Dir == "/":
		return "", fmt.Errorf("challenge directory %q is not a clean absolute path", s.Dir)
	case !tokenPattern.MatchString(token):
		return "", errors.New("challenge token is not base64url")
	}
	return path.Join(s.Dir, token), nil
}
