package doorman

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// ID prefixes, one per kind of object, so that an ID says what it names and a
// misplaced one is caught early.
const (
	PrefixBuilding   = "bld"
	PrefixUnit       = "unt"
	PrefixResident   = "res"
	PrefixDoor       = "dor"
	PrefixCarrier    = "car"
	PrefixCourier    = "cou"
	PrefixParcel     = "par"
	PrefixGrant      = "gnt"
	PrefixAudit      = "aud"
	PrefixManager    = "mgr"
	PrefixInvite     = "inv"
	PrefixCredential = "crd"
	PrefixDevice     = "dev"
	PrefixEnrollment = "enr"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new unguessable, time-ordered identifier such as
// "par_06f2k8...": 48 bits of milliseconds since the Unix epoch followed by
// 80 random bits, Crockford base32 encoded. IDs of one kind sort by creation
// time, which cursor pagination relies on; the random part makes them
// impossible to guess or enumerate.
func NewID(prefix string) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("doorman: no randomness: " + err.Error())
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// HasPrefix reports whether id looks like an ID of the given kind.
func HasPrefix(id, prefix string) bool {
	return strings.HasPrefix(id, prefix+"_") && len(id) == len(prefix)+1+26
}
