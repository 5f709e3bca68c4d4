package sshx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is an in-process SSH server that runs "exec" requests with
// the local /bin/sh, for exercising the executor end to end.
type testServer struct {
	t      testing.TB
	ln     net.Listener
	config *ssh.ServerConfig
	host   string
	port   int

	// refuse closes this many accepted connections straight away.
	refuse atomic.Int32
	// dropKeepalives leaves keepalive@openssh.com requests unanswered.
	dropKeepalives atomic.Bool
	// maxSessions, if set, rejects sessions beyond it on one connection,
	// as sshd does with a low MaxSessions.
	maxSessions int32
	// refuseSessions rejects this many session opens, as sshd does while
	// processes of closed sessions still hold its slots.
	refuseSessions atomic.Int32

	accepts    atomic.Int32 // TCP connections accepted
	closed     atomic.Int32 // SSH connections that ended
	active     atomic.Int32 // sessions open now
	maxPerConn atomic.Int32 // most sessions seen at once on one connection

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startServer(t testing.TB, authorized ssh.PublicKey, hostKeys ...ssh.Signer) *testServer {
	t.Helper()
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), authorized.Marshal()) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	for _, k := range hostKeys {
		config.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	s := &testServer{t: t, ln: ln, config: config, host: "127.0.0.1", port: addr.Port}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepts.Add(1)
		if s.refuse.Load() > 0 {
			s.refuse.Add(-1)
			nc.Close()
			continue
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(nc)
	}
}

func (s *testServer) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer s.closed.Add(1)
	_, chans, reqs, err := ssh.NewServerConn(nc, s.config)
	if err != nil {
		nc.Close()
		return
	}
	go func() {
		for req := range reqs {
			if req.Type == "keepalive@openssh.com" && s.dropKeepalives.Load() {
				continue
			}
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}()
	var perConn atomic.Int32
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		if s.refuseSessions.Load() > 0 {
			s.refuseSessions.Add(-1)
			nch.Reject(ssh.Prohibited, "no more sessions")
			continue
		}
		if s.maxSessions > 0 && perConn.Load() >= s.maxSessions {
			nch.Reject(ssh.ResourceShortage, "too many sessions")
			continue
		}
		n := perConn.Add(1)
		for m := s.maxPerConn.Load(); n > m && !s.maxPerConn.CompareAndSwap(m, n); m = s.maxPerConn.Load() {
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer perConn.Add(-1)
			s.session(nch)
		}()
	}
}

func (s *testServer) session(nch ssh.NewChannel) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	var proc *exec.Cmd
	exited := make(chan struct{})
	kill := func() {
		if proc == nil {
			return
		}
		select {
		case <-exited:
		default:
			syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		}
	}
	for req := range reqs {
		switch req.Type {
		case "exec":
			var msg struct{ Command string }
			if proc != nil || ssh.Unmarshal(req.Payload, &msg) != nil {
				req.Reply(false, nil)
				continue
			}
			cmd := exec.Command("/bin/sh", "-c", msg.Command)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Stdout = ch
			cmd.Stderr = ch.Stderr()
			stdin, err := cmd.StdinPipe()
			if err != nil || cmd.Start() != nil {
				req.Reply(false, nil)
				continue
			}
			proc = cmd
			req.Reply(true, nil)
			go func() {
				io.Copy(stdin, ch)
				stdin.Close()
			}()
			go func() {
				defer close(exited)
				status := 0
				if err := cmd.Wait(); err != nil {
					status = 255
					if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
						if ws.Signaled() {
							status = 128 + int(ws.Signal())
						} else {
							status = ws.ExitStatus()
						}
					}
				}
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
				ch.Close()
			}()
		case "signal":
			kill()
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}
	// The channel is gone: leave no process behind.
	kill()
	if proc != nil {
		<-exited
	}
	ch.Close()
}

// dropConns cuts every open connection, as a reboot or network failure would.
func (s *testServer) dropConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, nc := range s.conns {
		nc.Close()
	}
	s.conns = nil
}

func (s *testServer) stop() {
	s.ln.Close()
	s.dropConns()
	s.wg.Wait()
}

// waitFor polls cond until it holds or the timeout expires.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Keys are generated once per test binary: RSA generation is slow.
var (
	testRSAKey = sync.OnceValue(func() ssh.Signer {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return mustSigner(k)
	})
	testECDSAKey = sync.OnceValue(func() ssh.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return mustSigner(k)
	})
)

func newEd25519Key(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return mustSigner(priv), pem.EncodeToMemory(block)
}

func mustSigner(k any) ssh.Signer {
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		panic(err)
	}
	return s
}

func authorizedKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// fixture is a running server with a client key it accepts.
type fixture struct {
	srv       *testServer
	hostKey   ssh.Signer
	clientKey []byte
}

func newFixture(t testing.TB, hostKeys ...ssh.Signer) *fixture {
	t.Helper()
	if len(hostKeys) == 0 {
		k, _ := newEd25519Key(t)
		hostKeys = []ssh.Signer{k}
	}
	client, clientPEM := newEd25519Key(t)
	return &fixture{
		srv:       startServer(t, client.PublicKey(), hostKeys...),
		hostKey:   hostKeys[0],
		clientKey: clientPEM,
	}
}

func (f *fixture) target() Target {
	return f.targetPinned(f.hostKey.PublicKey())
}

func (f *fixture) targetPinned(k ssh.PublicKey) Target {
	return Target{
		Host:       f.srv.host,
		Port:       f.srv.port,
		User:       "deploy",
		PrivateKey: f.clientKey,
		HostKey:    authorizedKey(k),
	}
}

// newTestExecutor returns an Executor with fast retries, closed at cleanup.
func newTestExecutor(t testing.TB, opts Options) *Executor {
	t.Helper()
	if opts.RetryBaseDelay == 0 {
		opts.RetryBaseDelay = 10 * time.Millisecond
	}
	if opts.RetryMaxDelay == 0 {
		opts.RetryMaxDelay = 50 * time.Millisecond
	}
	e := New(opts)
	t.Cleanup(func() { e.Close() })
	return e
}
