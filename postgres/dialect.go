package postgres

import (
	"errors"
	"strings"

	"github.com/doorman-dev/doorman/sqlstore"
	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is what PostgreSQL does differently: a grant share-locks its
// door row, so a concurrent lockdown (which updates the row) either waits
// for the grant and revokes it, or is seen by it; deleting expired rows
// skips rows other nodes hold, so it never waits for them; and an
// advisory lock (key: "doorman" in ASCII) serialises migrations of nodes
// starting together.
var dialect = sqlstore.Dialect{
	Name:          "postgres",
	Classify:      classify,
	ShareLock:     " FOR SHARE",
	SkipLocked:    " FOR UPDATE SKIP LOCKED",
	MigrationLock: "SELECT pg_advisory_xact_lock(28270022122889582)",
}

// classify maps SQLSTATE codes to error kinds.
func classify(err error) sqlstore.ErrorKind {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqlstore.ErrOther
	}
	switch {
	case e.Code == "23505":
		return sqlstore.ErrUnique
	case e.Code == "23503":
		return sqlstore.ErrForeignKey
	case e.Code == "23502", e.Code == "23514", strings.HasPrefix(e.Code, "22"):
		return sqlstore.ErrInvalidValue
	case e.Code == "40001", e.Code == "40P01":
		return sqlstore.ErrRetry
	case e.Code == "53100": // disk_full
		return sqlstore.ErrStorageFull
	}
	return sqlstore.ErrOther
}
