// Package sqlite is Doorman's store on an embedded SQLite database file,
// for a single node with nothing to install. It opens the file (WAL,
// synchronous=FULL so a commit is on disk when it returns, foreign keys
// on), applies the embedded migrations, and hands the rest to sqlstore,
// which holds the queries shared with PostgreSQL.
//
// One connection writes, through sqlstore's group-commit batcher; a small
// pool of read-only connections serves reads, which WAL lets run beside
// the writer.
//
// This package must never import another adapter (postgres, http,
// natsbus) or anything above the store.
package sqlite
