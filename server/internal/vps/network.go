package vps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ErrAddressNotAllowed means a host resolves to an address the control
// plane must not connect to.
var ErrAddressNotAllowed = errors.New("address not allowed")

// NetworkPolicy decides which addresses managed servers may have. Without
// allowed networks only public addresses pass; with them, only addresses
// inside one of them. Link-local addresses (where cloud metadata services
// answer), metadata endpoints, unspecified, broadcast and multicast
// addresses are refused either way.
type NetworkPolicy struct {
	allowed []netip.Prefix
	lookup  func(ctx context.Context, host string) ([]netip.Addr, error)
	dialer  net.Dialer
}

// NewNetworkPolicy returns the policy for allowed (config.AllowedNetworks).
func NewNetworkPolicy(allowed []netip.Prefix) *NetworkPolicy {
	return &NetworkPolicy{
		allowed: allowed,
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
		dialer: net.Dialer{KeepAlive: 30 * time.Second},
	}
}

var (
	// metadataEndpoints answer cloud metadata requests outside the
	// link-local ranges.
	metadataEndpoints = []netip.Prefix{
		netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS, IPv6
		netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	}
	// reserved ranges hold no public server even though Go calls some of
	// them global unicast.
	reserved = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("192.0.2.0/24"), // documentation
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("198.51.100.0/24"), // documentation
		netip.MustParsePrefix("203.0.113.0/24"),  // documentation
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("100::/64"),      // discard
		netip.MustParsePrefix("2001:db8::/32"), // documentation
	}
)

// CheckAddr explains why ip is refused, or returns nil.
func (p *NetworkPolicy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	refuse := func(why string) error { return fmt.Errorf("%w: %s is %s", ErrAddressNotAllowed, ip, why) }
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: invalid address", ErrAddressNotAllowed)
	case ip.IsUnspecified():
		return refuse("the unspecified address")
	case ip.IsMulticast():
		return refuse("a multicast address")
	case ip.IsLinkLocalUnicast():
		return refuse("link-local, where cloud metadata services answer")
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return refuse("the broadcast address")
	case inAny(ip, metadataEndpoints):
		return refuse("a cloud metadata endpoint")
	}
	if len(p.allowed) > 0 {
		if inAny(ip, p.allowed) {
			return nil
		}
		return refuse("outside the allowed networks (" + prefixList(p.allowed) + ")")
	}
	switch {
	case ip.IsLoopback():
		return refuse("a loopback address (allow it with CHOM_ALLOWED_NETWORKS)")
	case ip.IsPrivate():
		return refuse("a private address (allow its network with CHOM_ALLOWED_NETWORKS)")
	case inAny(ip, reserved), !ip.IsGlobalUnicast():
		return refuse("not a public address")
	}
	return nil
}

// Resolve returns the addresses of host (an IP address or a DNS name),
// refusing the host when any of them is not allowed: a name that can
// point at a forbidden address is not to be trusted with the others.
func (p *NetworkPolicy) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if addrs, err = p.lookup(ctx, host); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", host)
		}
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			if a.String() == host {
				return nil, err
			}
			return nil, fmt.Errorf("%s resolves to a refused address: %w", host, err)
		}
	}
	return addrs, nil
}

// Dial connects to addr (host:port) only if its host passes Resolve, and
// dials the very addresses it checked: a DNS answer that changes between
// the check and the connection (rebinding) cannot slip through. It is the
// SSH executor's Options.Dial.
func (p *NetworkPolicy) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	addrs, err := p.Resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range addrs {
		conn, err := p.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

func inAny(ip netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func prefixList(prefixes []netip.Prefix) string {
	parts := make([]string, len(prefixes))
	for i, p := range prefixes {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}
