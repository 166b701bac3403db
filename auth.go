package doorman

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Roles of API callers.
const (
	RoleOperator = "operator"
	RoleManager  = "manager"
	RoleCarrier  = "carrier"
	RoleCourier  = "courier"
	// RoleResident is a resident signed in with a magic link.
	RoleResident = "resident"
	// RoleDevice is a door device, authenticated by the bus.
	RoleDevice = "device"
	// RoleSystem is Doorman acting on its own behalf: the CLI working on
	// the store directly, the demo's seeding. It may do what an operator
	// may.
	RoleSystem = "system"
)

// System returns the principal of Doorman acting on its own behalf.
func System() *Principal { return &Principal{Role: RoleSystem} }

// Credential is a bearer token Doorman issued: an operator credential, a
// manager session, a carrier API key or a courier session. Only the SHA-256
// of the token is stored; the token itself is shown once.
type Credential struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	// SubjectID is the manager, carrier or courier the credential acts as
	// ("" for the operator).
	SubjectID string `json:"subject_id,omitempty"`
	// CarrierID is set for carrier keys and courier sessions.
	CarrierID string `json:"carrier_id,omitempty"`
	Name      string `json:"name,omitempty"`
	// Prefix is the first characters of the token, to tell keys apart.
	Prefix    string     `json:"prefix"`
	TokenHash string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Active reports whether the credential may be used at now.
func (c *Credential) Active(now time.Time) bool {
	return c.RevokedAt == nil && (c.ExpiresAt == nil || now.Before(*c.ExpiresAt))
}

// Token lifetimes.
const (
	ManagerSessionTTL        = 12 * time.Hour
	CourierSessionDefaultTTL = time.Hour
	CourierSessionMaxTTL     = 12 * time.Hour
	InviteTTL                = 7 * 24 * time.Hour
)

// NewToken returns a new random bearer token with a readable prefix such as
// "dmk_" (carrier key), and the hash to store.
func NewToken(prefix string) (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("doorman: no randomness: " + err.Error())
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 random
// bits, so a fast hash is enough: there is nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Token prefixes.
const (
	TokenOperator = "dmo_"
	TokenManager  = "dms_"
	TokenCarrier  = "dmk_"
	TokenCourier  = "dmc_"
	TokenInvite   = "dmi_"
)

// Manager is a building manager's account.
type Manager struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// ManagerInvite lets whoever holds its token create (or attach) a manager
// account for one building, once, before it expires.
type ManagerInvite struct {
	ID         string     `json:"id"`
	BuildingID string     `json:"building_id"`
	Email      string     `json:"email"`
	TokenHash  string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
}

// Principal is the authenticated caller of a request.
type Principal struct {
	Role         string
	SubjectID    string // manager, carrier, courier or device ID
	CarrierID    string // for carriers and couriers
	DoorID       string // for devices
	CredentialID string
	// ExpiresAt is when the credential used expires; nil if it does not.
	ExpiresAt *time.Time
}

// Actor returns the principal as an audit actor string.
func (p *Principal) Actor() string {
	if p == nil || p.Role == RoleSystem {
		return "system"
	} else if p.Role == RoleOperator {
		return RoleOperator
	}
	return p.Role + ":" + p.SubjectID
}

type principalKey struct{}

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal in ctx, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// ActorFromContext returns the audit actor of the principal in ctx, or
// "system" when there is none.
func ActorFromContext(ctx context.Context) string {
	return PrincipalFromContext(ctx).Actor()
}
