package sshx

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestRunCapturesOutput(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	res, err := e.Run(t.Context(), f.target(), Command{Args: []string{"sh", "-c", "echo hello; echo oops >&2"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stdout != "hello\n" || res.Stderr != "oops\n" {
		t.Errorf("got stdout %q, stderr %q", res.Stdout, res.Stderr)
	}
}

func TestRunEnvAndDir(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	dir := t.TempDir()

	res, err := e.Run(t.Context(), f.target(), Command{
		Args: []string{"sh", "-c", `printf '%s|' "$GREETING"; pwd`},
		Env:  map[string]string{"GREETING": "it's $HOME `id`"},
		Dir:  dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "it's $HOME `id`|" + dir + "\n"; res.Stdout != want {
		t.Errorf("got %q, want %q", res.Stdout, want)
	}
}

func TestRunExitError(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	res, err := e.Run(t.Context(), f.target(), Command{Args: []string{"sh", "-c", "echo out; echo failed here >&2; exit 3"}})
	var exitErr *ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("want *ExitError, got %v", err)
	}
	if exitErr.Status != 3 || exitErr.Stdout != "out\n" || exitErr.Stderr != "failed here\n" {
		t.Errorf("got %+v", exitErr)
	}
	if res.Stdout != "out\n" {
		t.Errorf("result stdout %q", res.Stdout)
	}
	if IsRetryable(err) {
		t.Error("exit error must not be retryable")
	}
	if !strings.Contains(err.Error(), "status 3: failed here") {
		t.Errorf("message lacks status and stderr: %v", err)
	}
}

func TestRunStreamsStdin(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{MaxOutputBytes: 4 << 20})
	payload := make([]byte, 1<<20)
	rand.Read(payload)

	res, err := e.Run(t.Context(), f.target(), Command{Args: []string{"cat"}, Stdin: bytes.NewReader(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(res.Stdout), payload) {
		t.Errorf("stdout differs from stdin: %d bytes back, %d sent", len(res.Stdout), len(payload))
	}
}

func TestRunFailingStdinAborts(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	broken := io.MultiReader(strings.NewReader("partial"), errReader{errors.New("disk on fire")})

	start := time.Now()
	_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"sh", "-c", "cat >/dev/null; sleep 5"}, Stdin: broken})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("want the read error, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the command was not aborted", d)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestRunOutputTruncated(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{MaxOutputBytes: 1000})

	res, err := e.Run(t.Context(), f.target(), Command{Args: []string{"head", "-c", "5000", "/dev/zero"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 1000 || !res.Truncated {
		t.Errorf("got %d bytes, truncated=%v", len(res.Stdout), res.Truncated)
	}
}

func TestStream(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{MaxOutputBytes: 1024})
	const size = 3_000_000
	var n countingWriter

	res, err := e.Stream(t.Context(), f.target(), Command{Args: []string{"sh", "-c", "head -c 3000000 /dev/zero; echo done >&2"}}, &n)
	if err != nil {
		t.Fatal(err)
	}
	if n.n.Load() != size {
		t.Errorf("streamed %d bytes, want %d", n.n.Load(), size)
	}
	if res.Stdout != "" || res.Stderr != "done\n" {
		t.Errorf("got %+v", res)
	}
}

type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

func TestStreamWriterFailureAborts(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	start := time.Now()
	_, err := e.Stream(t.Context(), f.target(), Command{Args: []string{"yes"}}, failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "write stdout") {
		t.Fatalf("want a write error, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the command was not aborted", d)
	}
	waitFor(t, 2*time.Second, "the remote session to end", func() bool { return f.srv.active.Load() == 0 })
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("backup disk full") }

func TestStreamStdinRoundTrip(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{MaxOutputBytes: 1024})
	payload := make([]byte, 2<<20)
	rand.Read(payload)
	var out bytes.Buffer

	if _, err := e.Stream(t.Context(), f.target(), Command{Args: []string{"cat"}, Stdin: bytes.NewReader(payload)}, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), payload) {
		t.Errorf("round trip differs: %d bytes back, %d sent", out.Len(), len(payload))
	}
}

func TestUpload(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	dir := t.TempDir()
	dst := filepath.Join(dir, "site.conf")
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	var content []byte
	for range 300 {
		for b := range 256 {
			content = append(content, byte(b))
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	group, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}

	err = e.Upload(t.Context(), f.target(), File{
		Path:    dst,
		Mode:    0o640,
		Owner:   me.Username,
		Group:   group.Name,
		Content: bytes.NewReader(content),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("content differs: %d bytes, want %d", len(got), len(content))
	}
	info, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", info.Mode().Perm())
	}
	assertOnlyFile(t, dir, "site.conf")
}

func TestUploadFailingContentLeavesFileUntouched(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	dir := t.TempDir()
	dst := filepath.Join(dir, "site.conf")
	if err := os.WriteFile(dst, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}

	err := e.Upload(t.Context(), f.target(), File{
		Path:    dst,
		Mode:    0o644,
		Content: io.MultiReader(strings.NewReader("half a fi"), errReader{errors.New("source vanished")}),
	})
	if err == nil {
		t.Fatal("want an error")
	}
	if got, _ := os.ReadFile(dst); string(got) != "old" {
		t.Errorf("destination changed to %q", got)
	}
	assertOnlyFile(t, dir, "site.conf")
}

func TestUploadRejectsBadFiles(t *testing.T) {
	e := newTestExecutor(t, Options{})
	for _, f := range []File{
		{Path: "relative/path", Content: strings.NewReader("")},
		{Path: "/etc/../etc/passwd", Content: strings.NewReader("")},
		{Path: "/", Content: strings.NewReader("")},
		{Path: "/tmp/x"},
		{Path: "/tmp/x", Owner: "-rf", Content: strings.NewReader("")},
		{Path: "/tmp/x", Group: "a:b", Content: strings.NewReader("")},
	} {
		if err := e.Upload(t.Context(), Target{}, f); err == nil {
			t.Errorf("%+v: want an error", f)
		}
	}
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}

func TestFileMode(t *testing.T) {
	for mode, want := range map[os.FileMode]string{
		0o644:                        "0644",
		0o600:                        "0600",
		0o755 | os.ModeSetuid:        "4755",
		0o2775&0o777 | os.ModeSetgid: "2775",
		0o777 | os.ModeSticky:        "1777",
	} {
		if got := fileMode(mode); got != want {
			t.Errorf("fileMode(%v) = %s, want %s", mode, got, want)
		}
	}
}

func TestPoolReusesConnection(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	for range 5 {
		if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.srv.accepts.Load(); n != 1 {
		t.Errorf("5 sequential commands used %d connections, want 1", n)
	}
}

func TestPoolCapsSessionsPerConnection(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	const commands = 20

	var wg sync.WaitGroup
	errs := make(chan error, commands)
	for range commands {
		wg.Go(func() {
			_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"sleep", "0.3"}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.srv.accepts.Load(); n > (commands+7)/8 {
		t.Errorf("%d concurrent commands used %d connections, want at most %d", commands, n, (commands+7)/8)
	}
	if n := f.srv.maxPerConn.Load(); n > 8 {
		t.Errorf("%d sessions at once on one connection, want at most 8", n)
	}
}

func TestPoolLearnsServerSessionLimit(t *testing.T) {
	f := newFixture(t)
	f.srv.maxSessions = 2
	e := newTestExecutor(t, Options{})

	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"sleep", "0.2"}})
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
	if n := f.srv.maxPerConn.Load(); n > 2 {
		t.Errorf("%d sessions at once on one connection, server allows 2", n)
	}
}

func TestRefusedSessionOnIdleConnectionReconnects(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	f.srv.refuseSessions.Store(1)
	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.accepts.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{IdleTimeout: 100 * time.Millisecond})

	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the idle connection to close", func() bool { return f.srv.closed.Load() == 1 })
	waitFor(t, time.Second, "the empty pool to be forgotten", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.pools) == 0
	})
	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.accepts.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestKeepalive(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{KeepaliveInterval: 20 * time.Millisecond, KeepaliveTimeout: 100 * time.Millisecond})

	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // several answered keepalives
	if n := f.srv.closed.Load(); n != 0 {
		t.Fatalf("connection closed although keepalives were answered")
	}

	f.srv.dropKeepalives.Store(true)
	waitFor(t, 3*time.Second, "the unresponsive connection to be discarded", func() bool { return f.srv.closed.Load() == 1 })
	f.srv.dropKeepalives.Store(false)
	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.accepts.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestDeadConnectionReplaced(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	f.srv.dropConns()
	res, err := e.Run(t.Context(), f.target(), Command{Args: []string{"echo", "back"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stdout != "back\n" {
		t.Errorf("got %q", res.Stdout)
	}
	if n := f.srv.accepts.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestConnectionLostWhileRunning(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	go func() {
		waitFor(t, 3*time.Second, "the command to start", func() bool { return f.srv.active.Load() == 1 })
		f.srv.dropConns()
	}()
	_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"sleep", "5"}})
	if !errors.Is(err, ErrConnectionLost) || !IsRetryable(err) {
		t.Fatalf("want retryable ErrConnectionLost, got %v", err)
	}
	if n := f.srv.accepts.Load(); n != 1 {
		t.Errorf("a started command was retried: %d connections", n)
	}
}

func TestHostKeyMismatch(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	other, _ := newEd25519Key(t)

	_, err := e.Run(t.Context(), f.targetPinned(other.PublicKey()), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("want ErrHostKeyMismatch, got %v", err)
	}
	if IsRetryable(err) {
		t.Error("host key mismatch must not be retryable")
	}
	for _, want := range []string{"changed", Fingerprint(other.PublicKey()), Fingerprint(f.hostKey.PublicKey())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if n := f.srv.accepts.Load(); n != 1 {
		t.Errorf("%d connections: a mismatch was retried", n)
	}
}

// A server reinstalled with a host key of another type offers none of the
// pinned type: that is a changed host key, refused and not retried.
func TestHostKeyTypeChanged(t *testing.T) {
	f := newFixture(t, testRSAKey())
	e := newTestExecutor(t, Options{})
	pinned, _ := newEd25519Key(t)

	_, err := e.Run(t.Context(), f.targetPinned(pinned.PublicKey()), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("want ErrHostKeyMismatch, got %v", err)
	}
	if IsRetryable(err) {
		t.Error("a changed host key must not be retryable")
	}
	if n := f.srv.accepts.Load(); n != 1 {
		t.Errorf("%d connections: a mismatch was retried", n)
	}
}

// The server holds several key types; the client must ask for the pinned
// one, or it negotiates another and refuses a legitimate server.
func TestPinnedKeyTypeNegotiated(t *testing.T) {
	ed, _ := newEd25519Key(t)
	keys := map[string]ssh.Signer{"ed25519": ed, "rsa": testRSAKey(), "ecdsa": testECDSAKey()}
	f := newFixture(t, testRSAKey(), testECDSAKey(), ed)
	e := newTestExecutor(t, Options{})

	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			if _, err := e.Run(t.Context(), f.targetPinned(k.PublicKey()), Command{Args: []string{"true"}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestContextDeadlineStopsCommand(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := e.Run(ctx, f.target(), Command{Args: []string{"sleep", "10"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want context.DeadlineExceeded, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %s", d)
	}
	if IsRetryable(err) {
		t.Error("a caller's deadline must not be retryable")
	}
	waitFor(t, 2*time.Second, "the remote command to be killed", func() bool { return f.srv.active.Load() == 0 })

	// The connection survives for the next command.
	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.accepts.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestRedaction(t *testing.T) {
	f := newFixture(t)
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newTestExecutor(t, Options{Logger: logger})
	const secret = "hunter2's-token"

	res, err := e.Run(t.Context(), f.target(), Command{
		Args:    []string{"sh", "-c", `echo "pw=$1"; echo "denied for $1" >&2; exit 1`, "sh", secret},
		Env:     map[string]string{"DB_PASSWORD": secret},
		Secrets: []string{secret},
	})
	var exitErr *ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("want *ExitError, got %v", err)
	}
	if res.Stdout != "pw=[REDACTED]\n" || exitErr.Stderr != "denied for [REDACTED]\n" {
		t.Errorf("output not redacted: %+v", exitErr)
	}
	for name, text := range map[string]string{"error": err.Error(), "logs": logs.String(), "stdout": res.Stdout, "stderr": res.Stderr} {
		if strings.Contains(text, "hunter2") {
			t.Errorf("%s leaks the secret: %s", name, text)
		}
	}
	if !strings.Contains(logs.String(), "[REDACTED]") {
		t.Errorf("logs lack the redacted command line: %s", logs.String())
	}
}

func TestRedactionAtTruncation(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{MaxOutputBytes: 10})

	// The limit falls inside the secret.
	res, err := e.Run(t.Context(), f.target(), Command{
		Args:    []string{"printf", "%s", "abcdefsupersecret"},
		Secrets: []string{"supersecret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Stdout, "supe") || !strings.HasPrefix(res.Stdout, "abcdef") {
		t.Errorf("got %q", res.Stdout)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTransientDialFailuresRetried(t *testing.T) {
	t.Run("closed during handshake", func(t *testing.T) {
		f := newFixture(t)
		f.srv.refuse.Store(2)
		e := newTestExecutor(t, Options{})

		if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		if n := f.srv.accepts.Load(); n != 3 {
			t.Errorf("%d connections, want 3", n)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		f := newFixture(t)
		var dials atomic.Int32
		e := newTestExecutor(t, Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) <= 2 {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}})

		if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		if n := dials.Load(); n != 3 {
			t.Errorf("%d dials, want 3", n)
		}
	})
}

func TestRetriesAreBounded(t *testing.T) {
	var dials atomic.Int32
	e := newTestExecutor(t, Options{MaxAttempts: 3, Dial: func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}})
	f := newFixture(t)

	_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) || !IsRetryable(err) {
		t.Fatalf("want retryable ErrUnreachable wrapping ECONNREFUSED, got %v", err)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("%d dials, want 3", n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if n := len(e.pools); n != 0 {
		t.Errorf("%d pools kept for an unreachable host", n)
	}
}

func TestDialTimeout(t *testing.T) {
	e := newTestExecutor(t, Options{DialTimeout: 100 * time.Millisecond, MaxAttempts: 1, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	f := newFixture(t)

	_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}})
	if !errors.Is(err, ErrUnreachable) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrUnreachable that is not the caller's deadline, got %v", err)
	}
}

func TestAuthFailureNotRetried(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})
	_, wrongKey := newEd25519Key(t)
	target := f.target()
	target.PrivateKey = wrongKey

	_, err := e.Run(t.Context(), target, Command{Args: []string{"true"}})
	if !errors.Is(err, ErrAuth) || IsRetryable(err) {
		t.Fatalf("want permanent ErrAuth, got %v", err)
	}
	if n := f.srv.accepts.Load(); n != 1 {
		t.Errorf("%d connections: an auth failure was retried", n)
	}
}

func TestRunRejectsBadCommands(t *testing.T) {
	f := newFixture(t)
	e := newTestExecutor(t, Options{})

	_, err := e.Run(t.Context(), f.target(), Command{Args: []string{"echo", "a\x00b"}})
	if !errors.Is(err, ErrNULInArgument) {
		t.Errorf("want ErrNULInArgument, got %v", err)
	}
	target := f.target()
	target.HostKey = ""
	if _, err := e.Run(t.Context(), target, Command{Args: []string{"true"}}); err == nil {
		t.Error("want an error for a target without pinned key")
	}
	if n := f.srv.accepts.Load(); n != 0 {
		t.Errorf("%d connections for invalid commands", n)
	}
}

func TestClosedExecutor(t *testing.T) {
	f := newFixture(t)
	e := New(Options{})
	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the connection to close", func() bool { return f.srv.closed.Load() == 1 })
	if _, err := e.Run(t.Context(), f.target(), Command{Args: []string{"true"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("want ErrClosed, got %v", err)
	}
}

func TestTargetKeepsKeyOutOfOutput(t *testing.T) {
	_, key := newEd25519Key(t)
	target := Target{Host: "example.com", User: "root", PrivateKey: key, HostKey: "ssh-ed25519 AAAA"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "target", target)

	for _, s := range []string{
		fmt.Sprint(target), fmt.Sprintf("%+v", target), fmt.Sprintf("%#v", target), logs.String(),
	} {
		if strings.Contains(s, "PRIVATE") || strings.Contains(s, string(key[40:80])) {
			t.Errorf("private key printed: %s", s)
		}
		if !strings.Contains(s, "example.com") {
			t.Errorf("host missing: %s", s)
		}
	}
}
