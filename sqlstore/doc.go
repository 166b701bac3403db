// Package sqlstore implements doorman.Store once, over database/sql, for
// every SQL engine Doorman supports. The engine packages (sqlite, postgres)
// open the database, embed their own migrations and hand in a Dialect that
// says what differs between engines: how driver errors are classified, how
// a row is locked against concurrent change, how migrations are serialised.
//
// Every write goes through a group-commit batcher: one goroutine runs the
// queued writes in one transaction and commits once for all of them, so
// concurrent requests share one durable commit instead of each paying for
// its own. A write that fails undoes only its own statements: the batch
// is rerun without it, each write then in its own savepoint.
//
// Queries use $1, $2… placeholders, which both the SQLite and the PostgreSQL
// driver accept. Times are stored as BIGINT Unix microseconds in UTC, so
// comparison and ordering do not depend on the engine.
//
// This package must never import a database driver, an engine package
// (sqlite, postgres) or any other adapter (http, natsbus): it sees the
// database only through database/sql and the Dialect.
package sqlstore
