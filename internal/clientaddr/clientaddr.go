// Package clientaddr resolves the address a request came from, for the
// guessing limits of every surface (the API and the web pages): the TCP
// peer, or, when the peer is a reverse proxy the deployment trusts, the
// nearest address in X-Forwarded-For that is not a trusted proxy itself.
// Without trusted proxies the header is ignored: anyone can write it.
//
// It imports only the standard library.
package clientaddr

import (
	"net"
	"net/netip"
	"strings"
)

// Resolve returns the client's address from the TCP peer remote
// (host:port) and the X-Forwarded-For header forwarded.
func Resolve(remote, forwarded string, trusted []netip.Prefix) string {
	peer := hostIP(remote)
	if !isTrusted(peer, trusted) || forwarded == "" {
		return remote
	}
	hops := strings.Split(forwarded, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return remote // a header the proxy did not write cleanly
		}
		if !isTrusted(ip.Unmap(), trusted) {
			return ip.Unmap().String()
		}
	}
	return remote
}

// isTrusted reports whether ip is one of the trusted proxies.
func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if ip.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return false
}

// hostIP parses the host part of a host:port address.
func hostIP(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}
