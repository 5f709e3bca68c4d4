package client

import (
	"context"
	"errors"
	"testing"
)

func TestRetryWhileBusy(t *testing.T) {
	busy := reply{status: 409, body: `{"error":{"code":"operation_in_progress","message":"busy","request_id":"r"}}`}
	t.Run("waits out the conflict", func(t *testing.T) {
		srv, c := newScripted(t, Config{}, busy, busy, reply{status: 204})
		err := c.RetryWhileBusy(context.Background(), func() error { return c.DeleteBackup(context.Background(), "b") }, "operation_in_progress")
		if err != nil || len(srv.requests()) != 3 {
			t.Errorf("err = %v after %d requests, want success after 3", err, len(srv.requests()))
		}
	})
	t.Run("other conflicts are returned at once", func(t *testing.T) {
		srv, c := newScripted(t, Config{}, busy)
		err := c.RetryWhileBusy(context.Background(), func() error { return c.DeleteBackup(context.Background(), "b") }, "backup_in_progress")
		if !HasCode(err, "operation_in_progress") || len(srv.requests()) != 1 {
			t.Errorf("err = %v after %d requests, want the conflict after 1", err, len(srv.requests()))
		}
	})
	t.Run("stops with the context", func(t *testing.T) {
		_, c := newScripted(t, Config{}, busy)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		err := c.RetryWhileBusy(ctx, func() error {
			err := c.DeleteBackup(ctx, "b")
			if calls++; calls == 2 {
				cancel() // while the object is still busy
			}
			return err
		}, "operation_in_progress")
		if !errors.Is(err, context.Canceled) || !HasCode(err, "operation_in_progress") || calls != 2 {
			t.Errorf("err = %v after %d calls, want the cancellation and the last conflict after 2", err, calls)
		}
	})
}
