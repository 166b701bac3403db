package doorman

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	// Items lists the parts of the input that failed, when there are
	// several (or one named field).
	Items []ErrorItem
	// RetryAfter, for ETOOMANYREQUEST and rate limits, is how long the
	// caller should wait before trying again.
	RetryAfter time.Duration
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

// ErrorItem is one failed item of a request that fails as a whole: a
// manifest item, a CSV row, a field.
type ErrorItem struct {
	// Location says where in the request the item is, e.g. "body.email"
	// or "body line 3".
	Location string
	Message  string
	Code     string
	// Index is the zero-based position in a submitted list, when the item
	// is one.
	Index *int
	// Row is the one-based line of an uploaded file, when the item is one.
	Row int
	// Value is the offending value, when it is short and not secret.
	Value any
}

// InvalidField returns an EINVALID error about one field of the input,
// carrying the field's location as its one item.
func InvalidField(location, format string, args ...any) *Error {
	e := Errorf(EINVALID, format, args...)
	e.Items = []ErrorItem{{Location: location, Message: e.Message, Code: EINVALID}}
	return e
}

// ErrorItems returns the items of an *Error, or nil.
func ErrorItems(err error) []ErrorItem {
	var e *Error
	if errors.As(err, &e) {
		return e.Items
	}
	return nil
}

// ErrorRetryAfter returns the RetryAfter of an *Error, or 0.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Sentence capitalises a message and ends it with a period, as every
// message shown to callers reads.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
