package sqlite

import (
	"errors"

	"github.com/doorman-dev/doorman/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what SQLite does differently. Writes are serialised by the
// single writer connection, so no row locks are needed; BEGIN IMMEDIATE
// serialises migrations across processes; and statements are prepared
// once per connection.
var dialect = sqlstore.Dialect{
	Name:            "sqlite",
	Classify:        classify,
	CacheStatements: true, // the driver parses every statement afresh otherwise
}

// classify maps SQLite result codes to error kinds.
func classify(err error) sqlstore.ErrorKind {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.ErrOther
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.ErrUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ErrForeignKey
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_DATATYPE,
		sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG:
		return sqlstore.ErrInvalidValue
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return sqlstore.ErrRetry
	case sqlite3.SQLITE_FULL:
		return sqlstore.ErrStorageFull
	}
	return sqlstore.ErrOther
}
