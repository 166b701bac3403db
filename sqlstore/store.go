package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.Store = (*Store)(nil)

// Config is what an engine package hands to Open.
type Config struct {
	// DB runs the writes (and the reads, unless ReadDB is set). The store
	// owns it and closes it.
	DB *sql.DB
	// ReadDB, when set, runs the reads, e.g. a pool of read-only SQLite
	// connections beside a single writer. The store closes it too.
	ReadDB *sql.DB
	// Dialect says what differs between engines.
	Dialect Dialect
	// Migrations holds the engine's *.sql migrations at its root.
	Migrations fs.FS
}

// Store implements doorman.Store over database/sql.
type Store struct {
	db *sql.DB
	// rdb runs the reads, through a statement cache of its own.
	rdb     *readDB
	dialect Dialect
	batch   *batcher
	stmts   *stmtCache
	// ids makes the IDs this store hands out increase strictly, so that
	// within one process the order of IDs is the order of creation, also
	// within one millisecond.
	ids doorman.IDSequence

	// now is the store's clock, for timestamps it sets itself.
	now func() time.Time

	// sealer seals each audit entry it appends (SetAuditSealer).
	sealer atomic.Pointer[func(hash string) (string, error)]

	// deviceBuildings (device ID → building ID) and grants (grant ID →
	// grantFact) spare the reads of facts that never change on the
	// paths every unlock takes (RecordDeviceEvent, markGrantUsed).
	deviceBuildings factCache[string]
	grants          factCache[grantFact]

	// rateSwept is the rate count bucket of the last sweep that left no
	// old counts behind (sweepRates).
	rateSwept atomic.Int64
}

// Open migrates the database and returns a store over it. On error it
// closes nothing: the caller still owns cfg's databases.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DB == nil || cfg.Migrations == nil {
		return nil, errors.New("sqlstore: DB and Migrations are required")
	}
	if err := migrate(ctx, cfg.DB, cfg.Migrations, &cfg.Dialect); err != nil {
		return nil, err
	}
	s := &Store{db: cfg.DB, dialect: cfg.Dialect, now: time.Now}
	rdb := cfg.ReadDB
	if rdb == nil {
		rdb = s.db
	}
	s.rdb = &readDB{DB: rdb, stmts: newStmtCache(rdb, s.dialect.CacheStatements)}
	s.stmts = newStmtCache(s.db, s.dialect.CacheStatements)
	s.batch = newBatcher(s.db, s.dialect.classify, s.stmts)
	return s, nil
}

// Close waits for queued writes to commit and closes the databases.
func (s *Store) Close() error {
	s.batch.close()
	s.rdb.stmts.close()
	err := s.db.Close()
	if s.rdb.DB != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// DB returns the database the store writes to, for tooling and for tests
// that must reach under the store (such as tampering with the audit log).
func (s *Store) DB() *sql.DB { return s.db }

// Stats returns the group-commit counters.
func (s *Store) Stats() Stats { return s.batch.stats() }

// HoldWrites stops the writer before its next transaction until release
// is called; writes queue up meanwhile and then commit together. It is for
// maintenance (a consistent copy of the database file) and for tests that
// show commits are shared without depending on timing.
func (s *Store) HoldWrites() (release func()) { return s.batch.hold() }

// PendingWrites returns how many writes are queued and not yet started.
func (s *Store) PendingWrites() int { return int(s.batch.pending.Load()) }

// write runs fn through the batcher and translates its error. key groups
// writes that touch the same rows (usually the audit chain they append to).
func (s *Store) write(ctx context.Context, op, key string, fn func(tx *wtx) error) error {
	return s.translate(op, s.batch.submit(ctx, key, fn))
}

// clock returns the store's current time at the precision it stores.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
