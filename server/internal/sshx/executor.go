package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options configures an Executor. Zero values select the defaults.
type Options struct {
	// Logger receives connection events and, at debug level, every command
	// line with secrets redacted. Defaults to discarding.
	Logger *slog.Logger
	// MaxSessionsPerConn caps concurrent sessions on one connection.
	// Default and maximum 8, below OpenSSH's default MaxSessions of 10.
	MaxSessionsPerConn int
	// MaxDialsPerHost caps concurrent new connections to one host.
	// Default 2.
	MaxDialsPerHost int
	// IdleTimeout closes a connection that has had no session for this long.
	// Default 5m; negative keeps idle connections open.
	IdleTimeout time.Duration
	// KeepaliveInterval is how often a keepalive@openssh.com request is sent
	// on every connection. Default 30s; negative disables keepalives.
	KeepaliveInterval time.Duration
	// KeepaliveTimeout is how long to wait for a keepalive reply before the
	// connection is discarded. Default 15s.
	KeepaliveTimeout time.Duration
	// DialTimeout bounds the TCP connect plus the SSH handshake. Default 15s.
	DialTimeout time.Duration
	// MaxAttempts bounds tries at establishing a session, counting the
	// first. Default 4.
	MaxAttempts int
	// RetryBaseDelay is the backoff before the second attempt; it doubles
	// each time up to RetryMaxDelay, with jitter. Defaults 250ms and 5s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxOutputBytes caps the stdout and the stderr kept by Run, each.
	// Default 1 MiB; use Stream for larger output.
	MaxOutputBytes int
	// Dial opens the TCP connection. Defaults to a net.Dialer; tests use it
	// to inject faults.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxSessionsPerConn <= 0 || o.MaxSessionsPerConn > 8 {
		o.MaxSessionsPerConn = 8
	}
	if o.MaxDialsPerHost <= 0 {
		o.MaxDialsPerHost = 2
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.KeepaliveInterval == 0 {
		o.KeepaliveInterval = 30 * time.Second
	}
	if o.KeepaliveTimeout <= 0 {
		o.KeepaliveTimeout = 15 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 15 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = 250 * time.Millisecond
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = 5 * time.Second
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = 1 << 20
	}
	if o.Dial == nil {
		o.Dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return o
}

// Executor runs commands on targets over pooled SSH connections. It is safe
// for concurrent use; create one per process and Close it on shutdown.
type Executor struct {
	opts Options
	log  *slog.Logger
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	pools     map[poolKey]*hostPool
	dialSlots map[string]*dialSlots // by host
}

type dialSlots struct {
	sem   chan struct{}
	users int
}

// New returns an Executor with no connections yet.
func New(opts Options) *Executor {
	opts = opts.withDefaults()
	return &Executor{
		opts:      opts,
		log:       opts.Logger,
		done:      make(chan struct{}),
		pools:     make(map[poolKey]*hostPool),
		dialSlots: make(map[string]*dialSlots),
	}
}

// Close closes every connection and waits for background work to stop.
// Commands still running fail.
func (e *Executor) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// spawn runs f in a goroutine that Close waits for. It reports false, and
// does not run f, once the Executor is closed.
func (e *Executor) spawn(f func()) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
	return true
}

// Run runs cmd on t and returns its captured output. A non-zero exit is an
// *ExitError; the Result still holds the output. When ctx ends, the remote
// command is signalled, its session closed, and ctx's error returned.
func (e *Executor) Run(ctx context.Context, t Target, cmd Command) (Result, error) {
	return e.run(ctx, t, cmd, nil)
}

// Stream runs cmd on t, copying its stdout to stdout as it arrives, without
// buffering and without redaction (it is data, such as a backup). Only
// stderr is captured in the Result. If stdout fails, the command is aborted.
func (e *Executor) Stream(ctx context.Context, t Target, cmd Command, stdout io.Writer) (Result, error) {
	if stdout == nil {
		return Result{}, errors.New("stream: nil writer")
	}
	return e.run(ctx, t, cmd, stdout)
}

func (e *Executor) run(ctx context.Context, t Target, cmd Command, stdout io.Writer) (Result, error) {
	red := newRedactor(cmd.Secrets)
	line, err := cmd.line()
	if err != nil {
		return Result{}, red.wrap(fmt.Errorf("build command for %s: %w", t, err))
	}
	shown := abbreviate(red.redact(line))
	start := time.Now()
	res, err := e.exec(ctx, t, line, cmd.Stdin, stdout, red)
	attrs := []slog.Attr{
		slog.Any("target", t),
		slog.String("cmd", shown),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		err = red.wrap(fmt.Errorf("run %s on %s: %w", shown, t, err))
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "ssh run", attrs...)
	return res, err
}

// exec runs line in a new session. Opening the session is retried; once the
// exec request is sent, nothing is, since the command may have run.
func (e *Executor) exec(ctx context.Context, t Target, line string, stdin io.Reader, stdout io.Writer, red redactor) (Result, error) {
	var (
		p    *hostPool
		c    *conn
		sess *ssh.Session
	)
	err := e.retry(ctx, t, func() error {
		var err error
		if p, c, err = e.acquire(ctx, t); err != nil {
			return err
		}
		if sess, err = c.client.NewSession(); err != nil {
			return p.sessionFailed(c, err)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}

	abort := sync.OnceFunc(func() {
		_ = sess.Signal(ssh.SIGTERM)
		_ = sess.Close()
	})
	outCapture := &capture{limit: e.opts.MaxOutputBytes}
	errCapture := &capture{limit: e.opts.MaxOutputBytes}
	var stream *streamWriter
	if stdout != nil {
		stream = &streamWriter{w: stdout, onError: abort}
		sess.Stdout = stream
	} else {
		sess.Stdout = outCapture
	}
	sess.Stderr = errCapture
	var stdinPipe io.WriteCloser
	if stdin != nil {
		if stdinPipe, err = sess.StdinPipe(); err != nil {
			_ = sess.Close()
			p.release(c)
			return Result{}, fmt.Errorf("stdin: %w", err)
		}
	}

	if err := sess.Start(line); err != nil {
		_ = sess.Close()
		p.release(c)
		if errors.Is(err, io.EOF) {
			// The request may have reached the server: not retried here.
			p.drop(c)
			return Result{}, fmt.Errorf("%w: start command: %w", ErrConnectionLost, err)
		}
		// err quotes the command line, which may hold secrets.
		return Result{}, errors.New("start command: the server refused the exec request")
	}

	waitDone := make(chan error, 1)
	go func() { waitDone <- sess.Wait() }()
	var stdinDone chan error
	if stdinPipe != nil {
		stdinDone = make(chan error, 1)
		go func() {
			src := &readTracker{r: stdin}
			_, _ = io.Copy(stdinPipe, src)
			if src.err == nil {
				_ = stdinPipe.Close()
			}
			stdinDone <- src.err
		}()
	}

	var waitErr, readErr error
	for waiting := true; waiting; {
		select {
		case waitErr = <-waitDone:
			waiting = false
		case readErr = <-stdinDone:
			stdinDone = nil
			if readErr != nil {
				// Abort without sending EOF, so that a truncated payload
				// is not mistaken for a complete one.
				abort()
			}
		case <-ctx.Done():
			abort()
			release := p.abandon(c)
			releaseLater := func() {
				// The caller has gone; the session's end only frees its slot.
				if err := <-waitDone; err != nil {
					e.log.Debug("abandoned ssh session ended", slog.String("error", err.Error()))
				}
				release()
			}
			if !e.spawn(releaseLater) {
				go releaseLater()
			}
			res, _ := finishOutput(outCapture, errCapture, stream, red)
			return res, ctx.Err()
		}
	}
	if stdinDone != nil {
		// The command has exited, so the copier's next write fails; wait
		// briefly in case it is still reading the caller's stdin.
		timer := time.NewTimer(time.Second)
		select {
		case readErr = <-stdinDone:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	_ = sess.Close()
	p.release(c)

	res, streamErr := finishOutput(outCapture, errCapture, stream, red)
	var exitErr *ssh.ExitError
	switch {
	case readErr != nil:
		return res, fmt.Errorf("read stdin: %w", readErr)
	case streamErr != nil:
		return res, fmt.Errorf("write stdout: %w", streamErr)
	case waitErr == nil:
		return res, nil
	case errors.As(waitErr, &exitErr):
		return res, &ExitError{
			Status: exitErr.ExitStatus(),
			Signal: exitErr.Signal(),
			Stdout: tail(res.Stdout, exitErrorTail),
			Stderr: tail(res.Stderr, exitErrorTail),
		}
	default:
		// Typically *ssh.ExitMissingError: the channel closed without an
		// exit status because the connection went away.
		return res, fmt.Errorf("%w: %w", ErrConnectionLost, waitErr)
	}
}

func finishOutput(stdout, stderr *capture, stream *streamWriter, red redactor) (Result, error) {
	var res Result
	var outCut, errCut bool
	res.Stdout, outCut = stdout.finish(red)
	res.Stderr, errCut = stderr.finish(red)
	res.Truncated = outCut || errCut
	if stream != nil {
		return res, stream.finish()
	}
	return res, nil
}

// acquire returns a connection of t's pool with a session slot reserved.
func (e *Executor) acquire(ctx context.Context, t Target) (*hostPool, *conn, error) {
	for {
		p, err := e.pool(t)
		if err != nil {
			return nil, nil, err
		}
		c, err := p.acquire(ctx)
		if errors.Is(err, errPoolRemoved) {
			continue // emptied and forgotten meanwhile; make a new one
		}
		return p, c, err
	}
}

// retry runs op until it succeeds, fails permanently, or runs out of
// attempts, backing off exponentially with jitter in between.
func (e *Executor) retry(ctx context.Context, t Target, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !IsRetryable(err) {
			return err
		}
		if attempt >= e.opts.MaxAttempts {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		delay := e.backoff(attempt)
		e.log.LogAttrs(ctx, slog.LevelDebug, "ssh retrying",
			slog.Any("target", t), slog.Int("attempt", attempt),
			slog.Duration("delay", delay), slog.String("error", err.Error()))
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-e.done:
			timer.Stop()
			return ErrClosed
		}
	}
}

// backoff returns the delay after the given attempt: exponential, capped,
// with "equal jitter" so that concurrent callers spread out.
func (e *Executor) backoff(attempt int) time.Duration {
	d := e.opts.RetryBaseDelay << (attempt - 1)
	if d <= 0 || d > e.opts.RetryMaxDelay {
		d = e.opts.RetryMaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// connect dials addr and completes the SSH handshake, accepting the host
// key only if check does. Errors are classified: the error from check,
// ErrAuth, ErrUnreachable, or ctx's error.
func (e *Executor) connect(ctx context.Context, addr string, config ssh.ClientConfig, check func(ssh.PublicKey) error) (*ssh.Client, error) {
	release, err := e.acquireDialSlot(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	defer release()

	var (
		mu     sync.Mutex
		keyErr error
	)
	config.HostKeyCallback = func(_ string, _ net.Addr, key ssh.PublicKey) error {
		err := check(key)
		if err != nil {
			mu.Lock()
			keyErr = err
			mu.Unlock()
		}
		return err
	}
	dialCtx, cancel := context.WithTimeout(ctx, e.opts.DialTimeout)
	defer cancel()
	fail := func(err error) error {
		mu.Lock()
		defer mu.Unlock()
		return classifyConnectError(ctx, dialCtx, addr, config.User, e.opts.DialTimeout, err, keyErr)
	}

	nc, err := e.opts.Dial(dialCtx, "tcp", addr)
	if err != nil {
		return nil, fail(err)
	}
	if deadline, ok := dialCtx.Deadline(); ok {
		_ = nc.SetDeadline(deadline)
	}
	// The handshake does not take a context; a past deadline interrupts it.
	stop := context.AfterFunc(dialCtx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, &config)
	if !stop() && err == nil {
		_ = sc.Close()
		err = dialCtx.Err()
	}
	if err != nil {
		return nil, fail(err)
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		_ = sc.Close()
		return nil, fail(err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

func classifyConnectError(ctx, dialCtx context.Context, addr, user string, timeout time.Duration, err, keyErr error) error {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case keyErr != nil:
		return keyErr
	case ctx.Err() != nil:
		return fmt.Errorf("connect %s: %w", addr, ctx.Err())
	case dialCtx.Err() != nil:
		// Not wrapped: callers must not mistake this for their own
		// context's deadline.
		return fmt.Errorf("%w: %s: no answer within %s: %s", ErrUnreachable, addr, timeout, err.Error())
	case isAuthFailure(err):
		return fmt.Errorf("%w as %q on %s: %w", ErrAuth, user, addr, err)
	case isNoCommonHostKeyAlgorithm(err):
		// Only the pinned key's type is offered: a server that no longer
		// has a key of that type has changed its host key.
		return fmt.Errorf("%w: %s no longer offers a host key of the pinned type: %w", ErrHostKeyMismatch, addr, err)
	case isTransient(err), errors.As(err, &dnsErr), errors.As(err, &opErr):
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, addr, err)
	}
	return fmt.Errorf("ssh handshake with %s: %w", addr, err)
}

// acquireDialSlot limits concurrent dials to one host, so that a burst of
// commands does not trip sshd's MaxStartups.
func (e *Executor) acquireDialSlot(ctx context.Context, addr string) (release func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	e.mu.Lock()
	slots := e.dialSlots[host]
	if slots == nil {
		slots = &dialSlots{sem: make(chan struct{}, e.opts.MaxDialsPerHost)}
		e.dialSlots[host] = slots
	}
	slots.users++
	e.mu.Unlock()
	leave := func() {
		e.mu.Lock()
		slots.users--
		if slots.users == 0 {
			delete(e.dialSlots, host)
		}
		e.mu.Unlock()
	}
	select {
	case slots.sem <- struct{}{}:
		return func() {
			<-slots.sem
			leave()
		}, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	case <-e.done:
		leave()
		return nil, ErrClosed
	}
}
