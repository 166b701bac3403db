// Package storetest is the conformance suite every doorman.Store must
// pass: Run checks each method, its documented error codes, pagination,
// all-or-nothing batches, lockdown, group commit, idempotency claims,
// invitations, credentials and the tamper evidence of the audit log.
// Bench measures RecordAccess serially and under concurrency.
//
// The sqlite package runs it always and the postgres package whenever
// DOORMAN_TEST_POSTGRES_DSN is set, so both engines answer alike.
//
// This package must never import sqlstore, an engine package (sqlite,
// postgres) or any other adapter; it sees the store through doorman.Store,
// its own Batching interface (which an engine's test may fill in from
// sqlstore's hooks), and the raw *sql.DB it is handed for tampering.
package storetest
