package sshx

import (
	"os"
	"os/user"
	"strconv"
	"testing"
)

// benchTarget returns the sshd named by CHOM_BENCH_SSH_HOST, _PORT, _KEY (a
// private key file), _HOSTKEY (its authorized_keys line) and optionally
// _USER, or else the in-process server.
func benchTarget(b *testing.B) Target {
	b.Helper()
	if os.Getenv("CHOM_BENCH_SSH_HOST") == "" {
		return newFixture(b).target()
	}
	return sshdTarget(b)
}

func sshdTarget(b testing.TB) Target {
	b.Helper()
	host := os.Getenv("CHOM_BENCH_SSH_HOST")
	port, err := strconv.Atoi(os.Getenv("CHOM_BENCH_SSH_PORT"))
	if err != nil {
		port = 22
	}
	key, err := os.ReadFile(os.Getenv("CHOM_BENCH_SSH_KEY"))
	if err != nil {
		b.Fatalf("CHOM_BENCH_SSH_KEY: %v", err)
	}
	login := os.Getenv("CHOM_BENCH_SSH_USER")
	if login == "" {
		me, err := user.Current()
		if err != nil {
			b.Fatal(err)
		}
		login = me.Username
	}
	return Target{Host: host, Port: port, User: login, PrivateKey: key, HostKey: os.Getenv("CHOM_BENCH_SSH_HOSTKEY")}
}

// BenchmarkRunPooled runs a trivial command over one pooled connection.
func BenchmarkRunPooled(b *testing.B) {
	target := benchTarget(b)
	e := New(Options{})
	defer e.Close()
	cmd := Command{Args: []string{"true"}}
	for b.Loop() {
		if _, err := e.Run(b.Context(), target, cmd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunFresh pays for a TCP connect, key exchange and authentication
// on every command, as a client without pooling does.
func BenchmarkRunFresh(b *testing.B) {
	target := benchTarget(b)
	cmd := Command{Args: []string{"true"}}
	for b.Loop() {
		e := New(Options{})
		if _, err := e.Run(b.Context(), target, cmd); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
