package http

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

type clientAddrKey struct{}

// clientAddress is the huma middleware that notes the address a request
// came from, for the guessing limits: the TCP peer, or, when the peer is a
// reverse proxy the server was told to trust, the nearest address in
// X-Forwarded-For that is not a trusted proxy itself. Without trusted
// proxies the header is ignored: anyone can write it.
func (s *Server) clientAddress(ctx huma.Context, next func(huma.Context)) {
	addr := s.clientAddr(ctx.RemoteAddr(), ctx.Header("X-Forwarded-For"))
	next(huma.WithValue(ctx, clientAddrKey{}, addr))
}

// clientAddr resolves the client's address from the TCP peer and the
// X-Forwarded-For header.
func (s *Server) clientAddr(remote, forwarded string) string {
	peer := hostIP(remote)
	if !s.trusted(peer) || forwarded == "" {
		return remote
	}
	hops := strings.Split(forwarded, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return remote // a header the proxy did not write cleanly
		}
		if !s.trusted(ip.Unmap()) {
			return ip.Unmap().String()
		}
	}
	return remote
}

// trusted reports whether ip is one of the trusted proxies.
func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.trustedProxies {
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

// requestAddr returns the client address clientAddress noted.
func requestAddr(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}
