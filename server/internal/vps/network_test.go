package vps

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func TestCheckAddr(t *testing.T) {
	public := NewNetworkPolicy(nil)
	testNets := NewNetworkPolicy(prefixes("10.77.0.0/16"))
	withLoopback := NewNetworkPolicy(prefixes("10.77.0.0/16", "127.0.0.0/8"))
	everything := NewNetworkPolicy(prefixes("0.0.0.0/0", "::/0"))

	tests := []struct {
		addr   string
		policy *NetworkPolicy
		want   string // "" when allowed, else part of the refusal
	}{
		// Public mode: only global unicast addresses.
		{"93.184.216.34", public, ""},
		{"2606:4700:4700::1111", public, ""},
		{"127.0.0.1", public, "loopback"},
		{"::1", public, "loopback"},
		{"10.77.1.2", public, "private"},
		{"192.168.1.1", public, "private"},
		{"172.16.0.1", public, "private"},
		{"fd12::1", public, "private"},
		{"100.64.0.1", public, "not a public address"},
		{"192.0.2.10", public, "not a public address"},
		{"240.0.0.1", public, "not a public address"},
		{"2001:db8::1", public, "not a public address"},
		// Refused whatever the allowed networks say.
		{"169.254.169.254", public, "link-local"},
		{"169.254.169.254", everything, "link-local"},
		{"169.254.1.1", testNets, "link-local"},
		{"fe80::1", everything, "link-local"},
		{"::ffff:169.254.169.254", everything, "link-local"},
		{"fd00:ec2::254", everything, "metadata"},
		{"100.100.100.200", everything, "metadata"},
		{"0.0.0.0", everything, "unspecified"},
		{"::", everything, "unspecified"},
		{"224.0.0.1", everything, "multicast"},
		{"ff02::1", everything, "multicast"},
		{"255.255.255.255", everything, "broadcast"},
		// Allowed networks restrict to themselves.
		{"10.77.1.2", testNets, ""},
		{"10.78.0.1", testNets, "outside the allowed networks (10.77.0.0/16)"},
		{"93.184.216.34", testNets, "outside the allowed networks"},
		{"127.0.0.1", testNets, "outside the allowed networks"},
		{"127.0.0.1", withLoopback, ""},
		{"::ffff:10.77.1.2", testNets, ""},
	}
	for _, tt := range tests {
		err := tt.policy.CheckAddr(netip.MustParseAddr(tt.addr))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s under %v: refused: %v", tt.addr, tt.policy.allowed, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrAddressNotAllowed)):
			t.Errorf("%s under %v: %v, want a refusal mentioning %q", tt.addr, tt.policy.allowed, err, tt.want)
		}
	}
}

// fakeDNS answers lookups from a table that a test may change between
// calls, the way a rebinding attacker's name server does.
type fakeDNS struct {
	answers atomic.Pointer[[]netip.Addr]
	calls   atomic.Int32
}

func (d *fakeDNS) set(addrs ...string) {
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	d.answers.Store(&out)
}

func (d *fakeDNS) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	d.calls.Add(1)
	if host != "vps.example.com" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return *d.answers.Load(), nil
}

func TestResolve(t *testing.T) {
	dns := &fakeDNS{}
	p := NewNetworkPolicy(prefixes("10.77.0.0/16"))
	p.lookup = dns.lookup

	dns.set("10.77.1.2", "10.77.2.2")
	addrs, err := p.Resolve(context.Background(), "vps.example.com")
	if err != nil || len(addrs) != 2 {
		t.Fatalf("resolve: %v %v", addrs, err)
	}
	// One bad address spoils the name.
	dns.set("10.77.1.2", "169.254.169.254")
	if _, err := p.Resolve(context.Background(), "vps.example.com"); !errors.Is(err, ErrAddressNotAllowed) ||
		!strings.Contains(err.Error(), "vps.example.com resolves to a refused address") {
		t.Fatalf("mixed answer: %v", err)
	}
	if _, err := p.Resolve(context.Background(), "missing.example.com"); err == nil || errors.Is(err, ErrAddressNotAllowed) {
		t.Fatalf("unknown name: %v", err)
	}
	// An IP literal is never looked up.
	before := dns.calls.Load()
	if _, err := p.Resolve(context.Background(), "10.77.3.4"); err != nil || dns.calls.Load() != before {
		t.Fatalf("literal: %v, %d lookups", err, dns.calls.Load()-before)
	}
}

// TestDialRefusesRebinding registers a name while it points at an allowed
// address, then points it at the metadata service: the dial is refused
// without any connection attempt.
func TestDialRefusesRebinding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	dns := &fakeDNS{}
	p := NewNetworkPolicy(prefixes("127.0.0.0/8"))
	p.lookup = dns.lookup
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	dns.set("127.0.0.1")
	conn, err := p.Dial(ctx, "tcp", net.JoinHostPort("vps.example.com", port))
	if err != nil {
		t.Fatalf("dial while allowed: %v", err)
	}
	_ = conn.Close()

	dns.set("169.254.169.254")
	if _, err := p.Dial(ctx, "tcp", net.JoinHostPort("vps.example.com", port)); !errors.Is(err, ErrAddressNotAllowed) {
		t.Fatalf("dial after rebinding: %v, want ErrAddressNotAllowed", err)
	}
	dns.set("10.0.0.1")
	if _, err := p.Dial(ctx, "tcp", net.JoinHostPort("vps.example.com", port)); !errors.Is(err, ErrAddressNotAllowed) {
		t.Fatalf("dial outside the allowed networks: %v", err)
	}
	if _, err := p.Dial(ctx, "tcp", net.JoinHostPort("169.254.169.254", "80")); !errors.Is(err, ErrAddressNotAllowed) {
		t.Fatalf("dial of a literal metadata address: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 1 {
		t.Fatalf("%d connections accepted, want only the allowed one", n)
	}
}
