package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migration/*.sql
var migrations embed.FS

var _ doorman.Store = (*Store)(nil)

// Store is a doorman.Store on a SQLite file. Beside the doorman.Store
// methods it has those of sqlstore.Store: DB, Stats, HoldWrites and
// PendingWrites.
type Store struct {
	*sqlstore.Store
}

// maxReaders is the size of the read-only connection pool. SQLite's
// readers in WAL mode do not block each other, and the pure-Go driver
// holds a connection for as long as a query runs on the CPU: under load,
// with hundreds of goroutines sharing a few cores, a goroutine is often
// descheduled holding one, and with 4 connections a hundred requests
// queued for them (each connection costs its page cache, 2 MB at most).
const maxReaders = 16

// Open opens (creating if needed) the SQLite database at path and brings
// its schema up to date. The path must name a file: an in-memory database
// is not shared between the writer and the readers.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil, errors.New("sqlite: a database file path is required")
	}
	writer, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1) // the batcher is the only writer
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	reader.SetMaxOpenConns(maxReaders)
	reader.SetMaxIdleConns(maxReaders)

	sub, err := fs.Sub(migrations, "migration")
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	s, err := sqlstore.Open(ctx, sqlstore.Config{DB: writer, ReadDB: reader, Dialect: dialect, Migrations: sub})
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return &Store{Store: s}, nil
}

// dsn returns the driver's data source name for path: WAL, durable
// commits, foreign keys, a busy timeout, temporary storage (including the
// sub-journals of the batcher's savepoints) in memory, and immediate write
// transactions, so a writer takes the write lock at BEGIN rather than
// failing to upgrade mid-transaction. Readers are also query-only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "temp_store(MEMORY)") // savepoint sub-journals stay off disk
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}
