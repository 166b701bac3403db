package http

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// Enrollment codes are 12 characters of Crockford's base32 (60 random
// bits), shown in groups of four: "7KQ2-M9XD-4HVT". They are typed on a
// device by hand, so reading them back forgives case, dashes, spaces and
// the letters Crockford's alphabet leaves out for looking like digits.
const (
	enrollmentCodeLen   = 12
	enrollmentCodeGroup = 4
	crockford           = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// newEnrollmentCode returns a new random code in its display form.
func newEnrollmentCode() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("doormanhttp: no randomness: " + err.Error())
	}
	v := binary.BigEndian.Uint64(b[:])
	var sb strings.Builder
	for i := range enrollmentCodeLen {
		if i > 0 && i%enrollmentCodeGroup == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[v&31])
		v >>= 5
	}
	return sb.String()
}

// normalizeEnrollmentCode returns the canonical form of a typed code (upper
// case, no dashes or spaces, O read as 0 and I or L as 1) and whether it can
// be a code at all. Only the hash of the canonical form is stored.
func normalizeEnrollmentCode(typed string) (string, bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch r {
		case '-', ' ', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		sb.WriteRune(r)
	}
	if sb.Len() != enrollmentCodeLen {
		return "", false
	}
	return sb.String(), true
}

// NewEnrollment is an enrollment code just created, shown once.
type NewEnrollment struct {
	ID        string    `json:"id" doc:"The enrollment's ID (enr_…)."`
	DoorID    string    `json:"door_id" doc:"The door the code enrolls a device for."`
	Code      string    `json:"code" example:"7KQ2-M9XD-4HVT" doc:"The one-time code to give the device (doorman-agent enroll). It is shown only here; Doorman keeps its hash."`
	ExpiresAt time.Time `json:"expires_at" doc:"The code works once, until this time (15 minutes after it was made)."`
}

type createEnrollmentInput struct {
	DoorIDInput
	IdempotencyHeader
}

// enrollmentAttempts bounds retries when a new code's hash is taken (with
// 60 random bits that does not happen, but the store would say so).
const enrollmentAttempts = 3

func (s *Server) createEnrollment(ctx context.Context, in *createEnrollmentInput) (*output[NewEnrollment], error) {
	d, err := s.door(ctx, in.BuildingID, in.DoorID, manageBuilding)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		code := newEnrollmentCode()
		canonical, _ := normalizeEnrollmentCode(code)
		e := &doorman.Enrollment{
			DoorID:     d.ID,
			BuildingID: d.BuildingID,
			CodeHash:   doorman.HashToken(canonical),
			ExpiresAt:  s.now().Add(doorman.EnrollmentTTL),
		}
		err := s.store.CreateEnrollment(ctx, e)
		if doorman.ErrorCode(err) == doorman.ECONFLICT && attempt < enrollmentAttempts {
			continue
		} else if err != nil {
			return nil, scoped(err, "Door")
		}
		return ok(NewEnrollment{ID: e.ID, DoorID: e.DoorID, Code: code, ExpiresAt: e.ExpiresAt}), nil
	}
}
