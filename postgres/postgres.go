package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

//go:embed migration/*.sql
var migrations embed.FS

var _ doorman.Store = (*Store)(nil)

// Store is a doorman.Store on PostgreSQL. Beside the doorman.Store methods
// it has those of sqlstore.Store: DB, Stats, HoldWrites and PendingWrites.
type Store struct {
	*sqlstore.Store
}

// maxConns bounds the connection pool: one connection writes at a time
// (the batcher); the rest serve reads.
const maxConns = 16

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; search_path may be given to use a schema other than public) and
// brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	sub, err := fs.Sub(migrations, "migration")
	if err != nil {
		db.Close()
		return nil, err
	}
	s, err := sqlstore.Open(ctx, sqlstore.Config{DB: db, Dialect: dialect, Migrations: sub})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{Store: s}, nil
}
