// Package postgres is Doorman's store on PostgreSQL, for deployments past
// one machine: any number of stateless control-plane nodes share one
// database. It opens a pgx connection pool through database/sql, applies
// the embedded migrations (serialised across nodes by an advisory lock),
// and hands the rest to sqlstore, which holds the queries shared with
// SQLite. PostgreSQL errors are translated into doorman error codes here,
// at the edge.
//
// This package must never import another adapter (sqlite, http, natsbus)
// or anything above the store.
package postgres
