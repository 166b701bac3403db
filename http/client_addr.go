package http

import (
	"context"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman/internal/clientaddr"
)

type clientAddrKey struct{}

// clientAddress is the huma middleware that notes the address a request
// came from, for the guessing limits: the TCP peer, or, when the peer is a
// reverse proxy the server was told to trust, the nearest address in
// X-Forwarded-For that is not a trusted proxy itself. Without trusted
// proxies the header is ignored: anyone can write it.
func (s *Server) clientAddress(ctx huma.Context, next func(huma.Context)) {
	addr := clientaddr.Resolve(ctx.RemoteAddr(), ctx.Header("X-Forwarded-For"), s.trustedProxies)
	next(huma.WithValue(ctx, clientAddrKey{}, addr))
}

// requestAddr returns the client address clientAddress noted.
func requestAddr(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}
