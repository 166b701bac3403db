package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/doorman-dev/doorman"
)

// Guard keeps webhook calls away from the deployment's own networks
// (server-side request forgery): an endpoint's URL must be https and its
// host must resolve only to public addresses, checked when the endpoint is
// made (CheckURL) and again for the address each call actually dials
// (DialContext), so a name that resolves elsewhere later (DNS rebinding)
// is refused too.
type Guard struct {
	// AllowLoopback admits loopback hosts, over http or https: for tests
	// and development only (serve --webhook-allow-loopback).
	AllowLoopback bool
	// Lookup resolves a host name (net.DefaultResolver.LookupNetIP with
	// "ip" when nil).
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// ErrRefused is wrapped by every refusal of Guard.
var ErrRefused = errors.New("webhook: address refused")

// refused returns an EINVALID error that wraps ErrRefused.
func refused(format string, args ...any) error {
	return errors.Join(doorman.Errorf(doorman.EINVALID, format, args...), ErrRefused)
}

// blocked are the ranges, besides those netip classifies, that calls
// never go to.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // this network
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 (may reach IPv4 private space)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4 (embeds any IPv4 address)
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// Allowed reports whether a call may go to ip.
func (g *Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return g.AllowLoopback
	}
	if !ip.IsValid() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

func (g *Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	if g.Lookup != nil {
		return g.Lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckURL returns the URL if calls may go there: https (or http to a
// loopback host when AllowLoopback), no user info, a host that resolves,
// and only to allowed addresses. Returns EINVALID (wrapping ErrRefused).
func (g *Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, refused("The endpoint URL must be an absolute https URL.")
	}
	if u.User != nil {
		return nil, refused("The endpoint URL must not hold a user name or password.")
	}
	host := u.Hostname()
	ips, err := g.lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		return nil, refused("The endpoint's host %q does not resolve.", host)
	}
	loopback := true
	for _, ip := range ips {
		if !g.Allowed(ip) {
			return nil, refused("The endpoint's host %q resolves to %s, a private, loopback or reserved address.", host, ip)
		}
		loopback = loopback && ip.Unmap().IsLoopback()
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.AllowLoopback && loopback:
	default:
		return nil, refused("The endpoint URL must be https.")
	}
	return u, nil
}

// DialContext resolves addr's host, refuses it unless every address is
// allowed, and dials the first address that answers: the address checked
// is the address dialled.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := g.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if !g.Allowed(ip) {
			return nil, refused("The endpoint's host %q resolves to %s, a private, loopback or reserved address.", host, ip)
		}
	}
	d := net.Dialer{Control: g.control}
	var errs []error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// control checks, once more, the address the socket connects to.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refused("Cannot check the address %q.", address)
	}
	if !g.Allowed(ap.Addr()) {
		return refused("The address %s is private, loopback or reserved.", ap.Addr())
	}
	return nil
}
