package doorman

import (
	"errors"
	"fmt"
)

// Application error codes. Adapters translate their own errors into these at
// the edge, so callers never see a driver error; the HTTP API maps each code
// to a status in one table.
const (
	ECONFLICT       = "conflict"     // the object exists or changed under us
	EINTERNAL       = "internal"     // a bug or an unavailable dependency
	EINVALID        = "invalid"      // the input breaks a rule
	ENOTFOUND       = "not_found"    // no such object in the caller's scope
	EUNAUTHORIZED   = "unauthorized" // no or bad credentials
	EFORBIDDEN      = "forbidden"    // credentials fine, action not allowed
	ETOOMANYREQUEST = "too_many"     // a rate limit was hit
	EUNAVAILABLE    = "unavailable"  // a dependency (a door, the bus) did not answer in time
	ETOOLARGE       = "too_large"    // the input is over a documented size limit
	EPRECONDITION   = "precondition" // e.g. an Idempotency-Key reused with another body
)

// Error is an application error: a code from the list above and a message
// that is safe to show to the caller. Internal detail belongs in logs.
type Error struct {
	Code    string
	Message string
	// Reason is an optional stable machine-readable detail, e.g. a denial
	// reason such as "parcel_not_for_building".
	Reason string
}

// Error implements the error interface. Not used by the application otherwise.
func (e *Error) Error() string {
	return fmt.Sprintf("doorman error: code=%s message=%s", e.Code, e.Message)
}

// ErrorCode returns the code of the root error, if it is an *Error.
// It returns EINTERNAL for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human-readable message of an *Error, or a generic
// message for any other error so that internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorReason returns the stable reason of an *Error, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
