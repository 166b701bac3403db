package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/doorman-dev/doorman"
)

// internalError hides a driver error from callers: doorman.ErrorCode sees
// EINTERNAL and doorman.ErrorMessage a generic message, while the text,
// meant for logs, keeps the detail. It deliberately does not unwrap, so no
// caller can come to depend on a driver's error types.
type internalError struct {
	op  string
	err error
}

func (e *internalError) Error() string { return "sqlstore: " + e.op + ": " + e.err.Error() }

// translate turns any error into a domain error. Domain errors pass
// through; constraint errors become ECONFLICT, ENOTFOUND or EINVALID with a
// generic message (the methods check what they can beforehand, with better
// messages); context errors become EUNAVAILABLE; anything else EINTERNAL.
func (s *Store) translate(op string, err error) error {
	var de *doorman.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return de
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return doorman.Errorf(doorman.EUNAVAILABLE, "The request was cancelled or timed out.")
	case errors.Is(err, sql.ErrNoRows):
		return doorman.Errorf(doorman.ENOTFOUND, "Not found.")
	}
	switch s.dialect.classify(err) {
	case ErrUnique:
		return doorman.Errorf(doorman.ECONFLICT, "It already exists.")
	case ErrForeignKey:
		return doorman.Errorf(doorman.ENOTFOUND, "A referenced object does not exist, or is still referred to.")
	case ErrInvalidValue:
		return doorman.Errorf(doorman.EINVALID, "A value is out of range or malformed.")
	case ErrStorageFull:
		return &storageFullError{op: op, err: err}
	}
	return &internalError{op: op, err: err}
}

// storageFullError is a write the database refused for want of disk
// space: callers see EUNAVAILABLE with the reason storage_full (nothing
// was recorded, and nothing acted on: try again later), while the text,
// meant for the operator's logs, keeps the driver's detail.
type storageFullError struct {
	op  string
	err error
}

func (e *storageFullError) Error() string {
	return "sqlstore: " + e.op + ": storage full: " + e.err.Error()
}

func (e *storageFullError) Unwrap() error {
	return &doorman.Error{Code: doorman.EUNAVAILABLE, Reason: doorman.ReasonStorageFull, RetryAfter: 30 * time.Second,
		Message: "The server's storage is full: nothing was recorded. Try again later."}
}

// internal wraps an unexpected error for the logs.
func internal(op string, format string, args ...any) error {
	return &internalError{op: op, err: fmt.Errorf(format, args...)}
}

// notFound returns ENOTFOUND with a message naming the kind of object.
func notFound(what string) error {
	return doorman.Errorf(doorman.ENOTFOUND, "%s not found.", what)
}
