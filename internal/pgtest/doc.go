// Package pgtest gives tests a throwaway PostgreSQL schema on the server
// named by DOORMAN_TEST_POSTGRES_DSN: the postgres store's own tests and
// the HTTP API's tests both open their stores in one, so each test starts
// from an empty database and leaves nothing behind.
//
// It is for test code only: production code must never import it. It
// imports nothing of Doorman, only the standard library and the pgx
// driver, so any test may use it without an import cycle.
package pgtest
