package vps

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/sshx"
	"github.com/chomhq/chom/server/internal/store"
)

func TestHealthStatus(t *testing.T) {
	unreachable := fmt.Errorf("giving up after 4 attempts: %w: connection refused", sshx.ErrUnreachable)
	lost := fmt.Errorf("run: %w", sshx.ErrConnectionLost)
	hostKey := fmt.Errorf("run: %w: the host key changed", sshx.ErrHostKeyMismatch)
	auth := fmt.Errorf("connect: %w", sshx.ErrAuth)
	scriptFailed := fmt.Errorf("check health: %w", &sshx.ExitError{Status: 2})
	timeout := fmt.Errorf("%w: no answer within 30s", sshx.ErrUnreachable)
	handshake := errors.New("ssh handshake with 10.77.2.2:22: ssh: no common algorithm for host key")
	garbled := fmt.Errorf("check health: %w from the health script: load1: missing", provision.ErrUnexpectedOutput)
	tests := []struct {
		current      string
		bootstrapped bool
		err          error
		want         string
	}{
		{store.VPSActive, true, nil, store.VPSActive},
		{store.VPSUnreachable, true, nil, store.VPSActive},
		{store.VPSError, true, nil, store.VPSActive},
		{store.VPSActive, true, unreachable, store.VPSUnreachable},
		{store.VPSActive, true, lost, store.VPSUnreachable},
		{store.VPSActive, true, timeout, store.VPSUnreachable},
		{store.VPSUnreachable, true, unreachable, store.VPSUnreachable},
		{store.VPSActive, true, hostKey, store.VPSError},
		{store.VPSUnreachable, true, auth, store.VPSError},
		{store.VPSActive, true, scriptFailed, store.VPSActive},
		{store.VPSUnreachable, true, garbled, store.VPSActive},
		{store.VPSActive, true, handshake, store.VPSUnreachable},
		// A server that never finished its bootstrap is not made active.
		{store.VPSError, false, nil, store.VPSError},
		{store.VPSError, false, unreachable, store.VPSError},
		{store.VPSError, false, hostKey, store.VPSError},
		// Operations own these.
		{store.VPSProvisioning, true, unreachable, store.VPSProvisioning},
		{store.VPSPending, false, hostKey, store.VPSPending},
	}
	for _, tt := range tests {
		if got := healthStatus(tt.current, tt.bootstrapped, tt.err); got != tt.want {
			t.Errorf("%s (bootstrapped %v) after %v: %s, want %s", tt.current, tt.bootstrapped, tt.err, got, tt.want)
		}
	}
}
