package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

var (
	// ErrAuth means the server rejected the target's user or private key.
	// Retrying cannot help.
	ErrAuth = errors.New("ssh authentication failed")

	// ErrHostKeyMismatch means the server presented a host key other than the
	// pinned or expected one: the server was reinstalled, or something is
	// intercepting the connection. It is never retried.
	ErrHostKeyMismatch = errors.New("ssh host key mismatch")

	// ErrUnreachable wraps a failure to establish a connection (refused,
	// reset, timed out, closed during the handshake). It is retryable.
	ErrUnreachable = errors.New("ssh host unreachable")

	// ErrConnectionLost means an established connection broke. The executor
	// retries by itself only while opening a session; once the command was
	// sent it may or may not have run, and the error goes to the caller,
	// whose idempotent step can be retried.
	ErrConnectionLost = errors.New("ssh connection lost")

	// ErrNULInArgument means a command argument contains a NUL byte, which
	// no shell argument can carry.
	ErrNULInArgument = errors.New("argument contains a NUL byte")

	// ErrClosed is returned by an Executor after Close.
	ErrClosed = errors.New("ssh executor closed")
)

// exitErrorTail bounds the output kept in an ExitError: enough to explain the
// failure without carrying megabytes of log through the job system.
const exitErrorTail = 4 << 10

// ExitError reports a remote command that ran and exited unsuccessfully.
// Stdout and Stderr hold the end of the output, with secrets redacted.
type ExitError struct {
	Status int
	Signal string // set when the command was killed by a signal
	Stdout string
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("remote command exited with status %d", e.Status)
	if e.Signal != "" {
		msg += " (signal " + e.Signal + ")"
	}
	if s := strings.TrimSpace(tail(e.Stderr, 1<<10)); s != "" {
		msg += ": " + s
	}
	return msg
}

// IsRetryable reports whether err is a transient failure worth retrying:
// the host could not be reached or the connection broke. Authentication
// failures, host key mismatches, non-zero exit statuses and cancelled
// contexts are permanent.
func IsRetryable(err error) bool {
	var exitErr *ExitError
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrAuth), errors.Is(err, ErrHostKeyMismatch),
		errors.Is(err, ErrNULInArgument), errors.Is(err, ErrClosed),
		errors.As(err, &exitErr):
		return false
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false
	case errors.Is(err, ErrUnreachable), errors.Is(err, ErrConnectionLost), errors.Is(err, errSessionLimit):
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Checked before isTransient: context.DeadlineExceeded is a
		// net.Error with Timeout() == true.
		return false
	}
	return isTransient(err)
}

// isTransient reports network failures that a later attempt may not see.
func isTransient(err error) bool {
	for _, target := range []error{
		io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// isAuthFailure recognises x/crypto/ssh's client authentication errors,
// which carry no sentinel.
func isAuthFailure(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "ssh: unable to authenticate") ||
		strings.Contains(msg, "no common public key signature algorithm")
}

// isNoCommonHostKeyAlgorithm reports a handshake that failed because the
// server has no host key of the types offered.
func isNoCommonHostKeyAlgorithm(err error) bool {
	var negErr *ssh.AlgorithmNegotiationError
	if errors.As(err, &negErr) {
		return negErr.What == "host key"
	}
	return strings.Contains(err.Error(), "no common algorithm for host key")
}

// redactedError carries a message scrubbed of secrets while keeping the
// original chain for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// tail returns at most the last n bytes of s, starting on a rune boundary.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return "…" + s[i:]
}

// abbreviate shortens a command line for logs and error messages.
func abbreviate(s string) string {
	const n = 200
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
