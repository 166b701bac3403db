package http

import (
	"context"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// metaRoles is the operation metadata key listing the roles that may call
// an operation. Operations without it are public. The services authorise
// every call themselves; the roles here refuse early (before the body is
// read) and document the operation's security.
const metaRoles = "doorman.roles"

// authenticate is the huma middleware that resolves the bearer token of
// every non-public operation into a doorman.Principal in the request
// context, and refuses roles the operation does not admit (403) before any
// object is looked up.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	roles, ok := ctx.Operation().Metadata[metaRoles].([]string)
	if !ok {
		next(ctx)
		return
	}
	p, err := s.principal(ctx.Context(), ctx.Header("Authorization"))
	if err != nil {
		writeProblemHuma(ctx, s.problem(ctx.Context(), ctx.Operation().OperationID, err).(*Problem))
		return
	}
	if !slices.Contains(roles, p.Role) && !s.servicesDecideRoles {
		writeProblemHuma(ctx, problemf(doorman.EFORBIDDEN, "This operation is not available to the %s role.", p.Role))
		return
	}
	next(huma.WithContext(ctx, doorman.NewContextWithPrincipal(ctx.Context(), p)))
}

// principal resolves the bearer token of an Authorization header.
func (s *Server) principal(ctx context.Context, header string) (*doorman.Principal, error) {
	if header == "" {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "A bearer token is required (Authorization: Bearer <token>).")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "Use the Authorization: Bearer <token> scheme.")
	}
	return s.app.Credentials.Authenticate(ctx, token)
}
