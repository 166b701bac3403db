package http

import (
	"context"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// metaRoles is the operation metadata key listing the roles that may call
// an operation. Operations without it are public.
const metaRoles = "doorman.roles"

// maxTokenLen bounds what is hashed and looked up; real tokens are ~47
// characters.
const maxTokenLen = 256

// tokenRoles maps each token prefix to the only role a token with that
// prefix may carry.
var tokenRoles = map[string]string{
	doorman.TokenOperator: doorman.RoleOperator,
	doorman.TokenManager:  doorman.RoleManager,
	doorman.TokenCarrier:  doorman.RoleCarrier,
	doorman.TokenCourier:  doorman.RoleCourier,
}

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
	if !slices.Contains(roles, p.Role) {
		writeProblemHuma(ctx, problemf(doorman.EFORBIDDEN, "This operation is not available to the %s role.", p.Role))
		return
	}
	next(huma.WithContext(ctx, doorman.NewContextWithPrincipal(ctx.Context(), p)))
}

// principal looks the bearer token of an Authorization header up in the
// store. Unknown, expired and revoked tokens all get the same answer.
func (s *Server) principal(ctx context.Context, header string) (*doorman.Principal, error) {
	if header == "" {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "A bearer token is required (Authorization: Bearer <token>).")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "Use the Authorization: Bearer <token> scheme.")
	}
	token = strings.TrimSpace(token)
	role := tokenRole(token)
	if role == "" || len(token) > maxTokenLen {
		return nil, invalidToken()
	}
	now := s.now()
	cred, err := s.store.CredentialByTokenHash(ctx, doorman.HashToken(token), now)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, invalidToken()
	} else if err != nil {
		return nil, err
	}
	// The store should never hand back a credential of another role or an
	// inactive one; checking again costs nothing.
	if cred.Role != role || !cred.Active(now) {
		return nil, invalidToken()
	}
	return &doorman.Principal{
		Role:         cred.Role,
		SubjectID:    cred.SubjectID,
		CarrierID:    cred.CarrierID,
		CredentialID: cred.ID,
	}, nil
}

// tokenRole returns the role a token's prefix stands for, or "".
func tokenRole(token string) string {
	for prefix, role := range tokenRoles {
		if strings.HasPrefix(token, prefix) && len(token) > len(prefix) {
			return role
		}
	}
	return ""
}

func invalidToken() error {
	return doorman.Errorf(doorman.EUNAUTHORIZED, "The bearer token is not valid, or has expired or been revoked.")
}

// tokenPrefix is the part of a token shown in listings to tell keys apart.
func tokenPrefix(token string) string {
	const n = 12
	if len(token) < n {
		return token
	}
	return token[:n]
}

// caller returns the authenticated principal. Operations reach their
// handler only after authenticate put one in the context.
func caller(ctx context.Context) *doorman.Principal {
	if p := doorman.PrincipalFromContext(ctx); p != nil {
		return p
	}
	return &doorman.Principal{} // public operation: no role, no scope
}
