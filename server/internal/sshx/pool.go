package sshx

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// poolKey identifies connections that are interchangeable: same address,
// same login, same pinned key.
type poolKey struct {
	addr    string
	user    string
	key     [sha256.Size]byte // of the private key, which is not kept here
	hostKey string
}

// hostPool holds the connections to one target. It parses the private and
// host keys once, when the first command for the target arrives.
type hostPool struct {
	e      *Executor
	key    poolKey
	target Target // for logging; its String and LogValue omit the key
	config ssh.ClientConfig
	pinned ssh.PublicKey

	mu      sync.Mutex
	conns   []*conn
	dialing int // dials in progress
	waiting int // acquire calls without a session slot yet
	changed chan struct{}
	failGen int // bumped when a dial fails, so that waiters share the failure
	failErr error
	removed bool
}

type conn struct {
	client   *ssh.Client
	sessions int // open sessions, abandoned ones included
	// abandoned counts sessions given up on (context ended) whose channel
	// the server has not closed yet: sshd keeps the slot until the process
	// exits, and does not deliver signals on root logins.
	abandoned int
	max       int // lowered if the server refuses sessions below our limit
	lastUsed  time.Time
	dead      bool
}

var (
	errPoolRemoved  = errors.New("pool removed")
	errSessionLimit = errors.New("server refused a session: at its session limit")
)

func newHostPool(e *Executor, key poolKey, t Target) (*hostPool, error) {
	signer, err := ssh.ParsePrivateKey(t.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("parse private key for %s: %w", t, err)
	}
	pinned, err := parseHostKey(t.HostKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	t.PrivateKey = nil
	return &hostPool{
		e:      e,
		key:    key,
		target: t,
		config: ssh.ClientConfig{
			User:              t.User,
			Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyAlgorithms: hostKeyAlgorithms(pinned),
		},
		pinned:  pinned,
		changed: make(chan struct{}),
	}, nil
}

// pool returns the pool for t, creating it on first use.
func (e *Executor) pool(t Target) (*hostPool, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	key := poolKey{
		addr:    t.addr(),
		user:    t.User,
		key:     sha256.Sum256(t.PrivateKey),
		hostKey: strings.TrimSpace(t.HostKey),
	}
	e.mu.Lock()
	p, ok := e.pools[key]
	closed := e.closed
	e.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case ok:
		return p, nil
	}
	p, err := newHostPool(e, key, t)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if existing, ok := e.pools[key]; ok {
		return existing, nil
	}
	e.pools[key] = p
	return p, nil
}

// acquire reserves a session slot on a live connection, dialing a new one
// only when the connections being dialled cannot serve everyone waiting.
func (p *hostPool) acquire(ctx context.Context) (*conn, error) {
	p.mu.Lock()
	if p.removed {
		p.mu.Unlock()
		return nil, errPoolRemoved
	}
	p.waiting++
	gen := p.failGen
	for {
		if c := p.freeConn(); c != nil {
			c.sessions++
			p.waiting--
			p.mu.Unlock()
			return c, nil
		}
		if p.failGen != gen {
			// A dial this call was waiting on failed: share its outcome
			// rather than hammer the host with one dial per waiter.
			err := p.failErr
			p.waiting--
			p.mu.Unlock()
			p.e.forgetIfUnused(p)
			return nil, err
		}
		if p.dialing*p.e.opts.MaxSessionsPerConn < p.waiting {
			return p.dialLocked(ctx)
		}
		changed := p.changed
		p.mu.Unlock()
		var err error
		select {
		case <-changed:
		case <-ctx.Done():
			err = ctx.Err()
		case <-p.e.done:
			err = ErrClosed
		}
		p.mu.Lock()
		if err != nil {
			p.waiting--
			p.mu.Unlock()
			p.e.forgetIfUnused(p)
			return nil, err
		}
	}
}

// dialLocked is called with p.mu held and returns with it released.
func (p *hostPool) dialLocked(ctx context.Context) (*conn, error) {
	p.dialing++
	p.mu.Unlock()

	client, err := p.e.connect(ctx, p.key.addr, p.config, pinnedKeyCheck(p.key.addr, p.pinned))

	p.mu.Lock()
	p.dialing--
	p.waiting--
	if err != nil {
		if ctx.Err() == nil {
			p.failGen++
			p.failErr = err
		}
		p.broadcastLocked()
		p.mu.Unlock()
		p.e.forgetIfUnused(p)
		if errors.Is(err, ErrHostKeyMismatch) {
			p.e.log.LogAttrs(ctx, slog.LevelError, "ssh host key mismatch", slog.Any("target", p.target), slog.Any("error", err))
		}
		return nil, err
	}
	c := &conn{client: client, sessions: 1, max: p.e.opts.MaxSessionsPerConn, lastUsed: time.Now()}
	p.conns = append(p.conns, c)
	p.broadcastLocked()
	p.mu.Unlock()

	if !p.e.spawn(func() { p.maintain(c) }) {
		p.drop(c)
		return nil, ErrClosed
	}
	p.e.log.LogAttrs(ctx, slog.LevelDebug, "ssh connected", slog.Any("target", p.target))
	return c, nil
}

func (p *hostPool) freeConn() *conn {
	for _, c := range p.conns {
		if !c.dead && c.sessions < c.max {
			return c
		}
	}
	return nil
}

func (p *hostPool) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// release returns a session slot.
func (p *hostPool) release(c *conn) {
	p.mu.Lock()
	c.sessions--
	c.lastUsed = time.Now()
	p.broadcastLocked()
	p.mu.Unlock()
}

// abandon records that the caller gave up on a session still open on c, so
// that it does not keep the connection from being closed when idle.
func (p *hostPool) abandon(c *conn) (release func()) {
	p.mu.Lock()
	c.abandoned++
	c.lastUsed = time.Now()
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		c.abandoned--
		p.mu.Unlock()
		p.release(c)
	}
}

// drop removes c from the pool and closes it. Sessions still open on it fail
// and release their slots as usual.
func (p *hostPool) drop(c *conn) {
	p.mu.Lock()
	if !c.dead {
		c.dead = true
		p.conns = slices.DeleteFunc(p.conns, func(x *conn) bool { return x == c })
		p.broadcastLocked()
	}
	p.mu.Unlock()
	_ = c.client.Close()
	p.e.forgetIfUnused(p)
}

func (p *hostPool) unusedLocked() bool {
	return len(p.conns) == 0 && p.dialing == 0 && p.waiting == 0
}

// forgetIfUnused removes an empty pool, so that the parsed private key of a
// server no longer in use does not stay in memory.
func (e *Executor) forgetIfUnused(p *hostPool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unusedLocked() && e.pools[p.key] == p {
		delete(e.pools, p.key)
		p.removed = true
	}
}

// sessionFailed handles a failed session open on c and returns the error
// to report; the command has not started, so it may be retried.
func (p *hostPool) sessionFailed(c *conn, err error) error {
	var openErr *ssh.OpenChannelError
	if errors.As(err, &openErr) && (openErr.Reason == ssh.ResourceShortage || openErr.Reason == ssh.Prohibited) {
		p.mu.Lock()
		others := c.sessions - 1
		// The server's MaxSessions is below ours, or processes of abandoned
		// sessions still hold slots: use this connection for no more than
		// it holds now.
		c.max = others
		p.mu.Unlock()
		p.release(c)
		if others == 0 {
			// Nothing of ours runs on it, yet the server refuses: only a
			// new connection gets fresh slots.
			p.drop(c)
		}
		p.e.log.Info("ssh server refused a session; limiting the connection",
			slog.Any("target", p.target), slog.Int("limit", others))
		return fmt.Errorf("%w: %w", errSessionLimit, err)
	}
	p.release(c)
	p.drop(c)
	return fmt.Errorf("%w: open session: %w", ErrConnectionLost, err)
}

// maintain watches one connection until it closes: it sends keepalives,
// discards the connection when they fail, and closes it once idle.
func (p *hostPool) maintain(c *conn) {
	opts := p.e.opts
	closed := make(chan struct{})
	go func() {
		_ = c.client.Wait()
		close(closed)
	}()
	defer func() {
		p.drop(c)
		<-closed
	}()

	var keepalive <-chan time.Time
	if opts.KeepaliveInterval > 0 {
		ticker := time.NewTicker(opts.KeepaliveInterval)
		defer ticker.Stop()
		keepalive = ticker.C
	}
	var idle <-chan time.Time
	var idleTimer *time.Timer
	if opts.IdleTimeout > 0 {
		idleTimer = time.NewTimer(opts.IdleTimeout)
		defer idleTimer.Stop()
		idle = idleTimer.C
	}

	for {
		select {
		case <-closed:
			p.e.log.Debug("ssh connection closed", slog.Any("target", p.target))
			return
		case <-p.e.done:
			return
		case <-keepalive:
			if err := sendKeepalive(c.client, opts.KeepaliveTimeout); err != nil {
				p.e.log.Warn("ssh keepalive failed; discarding connection",
					slog.Any("target", p.target), slog.Any("error", err))
				return
			}
		case <-idle:
			p.mu.Lock()
			next := opts.IdleTimeout
			if c.sessions == c.abandoned {
				next -= time.Since(c.lastUsed)
			}
			if next <= 0 {
				// Retire it under the lock so that no acquire picks it up
				// while it is being closed.
				c.dead = true
				p.conns = slices.DeleteFunc(p.conns, func(x *conn) bool { return x == c })
			}
			p.mu.Unlock()
			if next <= 0 {
				p.e.log.Debug("ssh connection idle; closing", slog.Any("target", p.target))
				return
			}
			idleTimer.Reset(next)
		}
	}
}

// sendKeepalive does what OpenSSH's ServerAliveInterval does. Any reply,
// even a refusal, proves the connection alive.
func sendKeepalive(client *ssh.Client, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
		errc <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-errc:
		return err
	case <-timer.C:
		return fmt.Errorf("no reply within %s", timeout)
	}
}
