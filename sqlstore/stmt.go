package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a statement cache. The store's queries are
// string constants or built from a few choices (filters, the length of an
// IN list), so their texts are few; past the bound a query simply runs
// unprepared.
const maxCachedStatements = 512

// stmtCache is the store's one way of preparing SQL once: statements
// keyed by their query text, prepared on first use and reused after, for
// engines whose driver parses every statement afresh (SQLite, where
// parsing costs about as much as running). A *sql.Stmt prepared on a
// *sql.DB is prepared again, lazily, on each pooled connection it runs on,
// and tx.Stmt reuses the one prepared on the transaction's connection. When
// the dialect does not ask for it (pgx caches statements itself) the cache
// is off and every query runs as given.
//
// A statement is prepared on the database, which needs a free connection.
// Readers have a pool, so a read prepares its statement inline. The writer
// has one connection, held by the batcher's transaction while a write
// runs, so a write statement not yet prepared runs unprepared and is
// prepared by the batcher after the batch (prepareWanted): from the second
// batch on it is reused.
type stmtCache struct {
	db *sql.DB
	on bool

	mu     sync.RWMutex
	m      map[string]*sql.Stmt
	wanted map[string]bool // write statements to prepare after the batch
}

// newStmtCache returns a cache of statements on db, or one that prepares
// nothing when on is false.
func newStmtCache(db *sql.DB, on bool) *stmtCache {
	return &stmtCache{db: db, on: on, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// lookup returns the statement prepared for query, or nil.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if !c.on {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// prepared returns the statement for query, preparing it on first use, or
// nil (cache off or full, or the query does not prepare: running it then
// reports the error).
func (c *stmtCache) prepared(ctx context.Context, query string) *sql.Stmt {
	if !c.on {
		return nil
	}
	if st := c.lookup(query); st != nil {
		return st
	}
	c.mu.RLock()
	full := len(c.m) >= maxCachedStatements
	c.mu.RUnlock()
	if full {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	return c.keep(query, st)
}

// keep caches st for query, or closes it and returns the one another
// goroutine cached first.
func (c *stmtCache) keep(query string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if had := c.m[query]; had != nil {
		st.Close()
		return had
	}
	if c.m == nil || len(c.m) >= maxCachedStatements { // closed, or full
		st.Close()
		return nil
	}
	c.m[query] = st
	return st
}

// inTx returns the prepared statement for query bound to tx, or nil after
// noting the query for prepareWanted.
func (c *stmtCache) inTx(tx *sql.Tx, query string) *sql.Stmt {
	if !c.on {
		return nil
	}
	if st := c.lookup(query); st != nil {
		return tx.Stmt(st)
	}
	c.mu.Lock()
	if c.wanted != nil && len(c.m)+len(c.wanted) < maxCachedStatements {
		c.wanted[query] = true
	}
	c.mu.Unlock()
	return nil
}

// prepareWanted prepares the write statements that ran unprepared, while
// the writer connection is free (the batcher calls it between batches).
func (c *stmtCache) prepareWanted() {
	if !c.on {
		return
	}
	c.mu.Lock()
	wanted := c.wanted
	if len(wanted) > 0 {
		c.wanted = map[string]bool{}
	}
	c.mu.Unlock()
	for q := range wanted {
		if st, err := c.db.Prepare(q); err == nil {
			c.keep(q, st)
		}
	}
}

// exec runs a write statement in tx, prepared once if the cache is on.
func (c *stmtCache) exec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := c.inTx(tx, query); st != nil {
		return st.Exec(args...)
	}
	return tx.Exec(query, args...)
}

// queryRow runs a one-row statement in tx, prepared once if the cache is on.
func (c *stmtCache) queryRow(tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := c.inTx(tx, query); st != nil {
		return st.QueryRow(args...)
	}
	return tx.QueryRow(query, args...)
}

// close releases the prepared statements; the cache prepares no more.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m, c.wanted = nil, nil
}

// readDB is the database the store reads from. Its queries are prepared
// once through its statement cache, so every read of the store (through
// QueryContext and QueryRowContext, directly or as a querier) is parsed
// once per connection, not on every call.
type readDB struct {
	*sql.DB
	stmts *stmtCache
}

// QueryContext runs a query, prepared once if the cache is on.
func (r *readDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.stmts.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query, prepared once if the cache is on.
func (r *readDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := r.stmts.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.DB.QueryRowContext(ctx, query, args...)
}

// query runs a statement returning rows in tx, prepared once if the cache
// is on.
func (c *stmtCache) query(tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := c.inTx(tx, query); st != nil {
		return st.Query(args...)
	}
	return tx.Query(query, args...)
}

// wtx is the batcher's write transaction as writes see it: every statement
// they run in it, by whatever method, goes through the store's statement
// cache, so that no write parses its SQL again on every call.
type wtx struct {
	tx    *sql.Tx
	stmts *stmtCache
}

// Exec runs a statement.
func (t *wtx) Exec(query string, args ...any) (sql.Result, error) {
	return t.stmts.exec(t.tx, query, args...)
}

// QueryRow runs a one-row query.
func (t *wtx) QueryRow(query string, args ...any) *sql.Row {
	return t.stmts.queryRow(t.tx, query, args...)
}

// Query runs a query.
func (t *wtx) Query(query string, args ...any) (*sql.Rows, error) {
	return t.stmts.query(t.tx, query, args...)
}

// ExecContext runs a statement; the transaction's context governs it.
func (t *wtx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return t.Exec(query, args...)
}

// QueryContext runs a query (a querier); the transaction's context
// governs it.
func (t *wtx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Query(query, args...)
}

// QueryRowContext runs a one-row query (a querier); the transaction's
// context governs it.
func (t *wtx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return t.QueryRow(query, args...)
}
