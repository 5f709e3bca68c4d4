package vps

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chomhq/chom/server/internal/jobs"
	"github.com/chomhq/chom/server/internal/sshx"
)

func TestConnectErrorPermanence(t *testing.T) {
	tests := []struct {
		err       error
		expected  string
		permanent bool
		says      string
	}{
		{fmt.Errorf("scan: %w: expected x", sshx.ErrHostKeyMismatch), "SHA256:x", true, "does not have the expected fingerprint SHA256:x"},
		{fmt.Errorf("run: %w: the host key changed", sshx.ErrHostKeyMismatch), "", true, "set expected_host_key_fingerprint"},
		{fmt.Errorf("connect: %w", sshx.ErrAuth), "", true, "refused the SSH user or private key"},
		{fmt.Errorf("dial: %w: 10.0.0.1 is outside", ErrAddressNotAllowed), "", true, "outside"},
		{fmt.Errorf("giving up: %w", sshx.ErrUnreachable), "", false, "giving up"},
		{&sshx.ExitError{Status: 100}, "", false, "status 100"},
	}
	for _, tt := range tests {
		err := connectError(tt.err, tt.expected)
		if jobs.IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.says) || !errors.Is(err, tt.err) {
			t.Errorf("%v: %v (permanent %v), want permanent %v saying %q", tt.err, err, jobs.IsPermanent(err), tt.permanent, tt.says)
		}
	}
}
