package sshx

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpenSSH checks behaviour that depends on a real sshd: signals,
// keepalive replies, its session limit and its host keys. It runs only when
// the CHOM_BENCH_SSH_* variables name a server (see benchTarget); uploads go
// to a temporary directory on that server.
func TestOpenSSH(t *testing.T) {
	if os.Getenv("CHOM_BENCH_SSH_HOST") == "" {
		t.Skip("CHOM_BENCH_SSH_HOST not set")
	}
	target := sshdTarget(t)
	e := newTestExecutor(t, Options{KeepaliveInterval: 100 * time.Millisecond})
	ctx := t.Context()

	t.Run("run", func(t *testing.T) {
		res, err := e.Run(ctx, target, Command{Args: []string{"sh", "-c", `echo "$1"; exit 7`, "sh", "it's $(x)"}})
		var exitErr *ExitError
		if !errors.As(err, &exitErr) || exitErr.Status != 7 || res.Stdout != "it's $(x)\n" {
			t.Fatalf("got %+v, %v", res, err)
		}
	})

	t.Run("scan", func(t *testing.T) {
		hk, err := e.Scan(ctx, target.Host, target.port(), target.User, target.PrivateKey, "")
		if err != nil {
			t.Fatal(err)
		}
		pinned, err := parseHostKey(target.HostKey)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.Scan(ctx, target.Host, target.port(), target.User, nil, Fingerprint(pinned))
		if err != nil || again.Key != strings.Join(strings.Fields(target.HostKey)[:2], " ") {
			t.Fatalf("scan for the pinned key: %+v, %v (first scan %+v)", again, err, hk)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := e.Run(ctx, target, Command{Args: []string{"sleep", "10"}}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want context.DeadlineExceeded, got %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("returned after %s", d)
		}
	})

	t.Run("upload", func(t *testing.T) {
		res, err := e.Run(ctx, target, Command{Args: []string{"mktemp", "-d"}})
		if err != nil {
			t.Fatal(err)
		}
		dir := strings.TrimSpace(res.Stdout)
		defer e.Run(context.WithoutCancel(ctx), target, Command{Args: []string{"rm", "-rf", dir}})
		content := bytes.Repeat([]byte("0123456789\x00\xff"), 100_000)
		if err := e.Upload(ctx, target, File{Path: dir + "/f", Mode: 0o640, Content: bytes.NewReader(content)}); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := e.Stream(ctx, target, Command{Args: []string{"cat", dir + "/f"}}, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), content) {
			t.Errorf("read back %d bytes, want %d", got.Len(), len(content))
		}
		res, err = e.Run(ctx, target, Command{Args: []string{"stat", "-c", "%a", dir + "/f"}})
		if err != nil || res.Stdout != "640\n" {
			t.Errorf("mode %q, %v", res.Stdout, err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				_, err := e.Run(ctx, target, Command{Args: []string{"sleep", "0.2"}})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("keepalive", func(t *testing.T) {
		time.Sleep(500 * time.Millisecond)
		e.mu.Lock()
		var conns int
		for _, p := range e.pools {
			p.mu.Lock()
			conns += len(p.conns)
			p.mu.Unlock()
		}
		e.mu.Unlock()
		if conns == 0 {
			t.Error("keepalives answered by sshd were taken as failures")
		}
	})
}
