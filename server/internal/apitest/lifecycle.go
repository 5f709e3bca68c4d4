package apitest

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// Stop asks the process to shut down (SIGTERM) and waits up to within for
// it to exit. It returns nil when the process exited cleanly.
func (p *Process) Stop(t testing.TB, within time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	return p.Wait(t, within)
}

// Wait waits up to within for the process to exit on its own, failing the
// test if it does not, and returns nil when it exited cleanly.
func (p *Process) Wait(t testing.TB, within time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("the server was still running after %s:\n%s", within, p.logs.String())
	}
	// Set by cmd.Wait before done was closed.
	if state := p.cmd.ProcessState; !state.Success() {
		return fmt.Errorf("the server exited: %s", state)
	}
	return nil
}
