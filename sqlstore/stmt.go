package sqlstore

import (
	"database/sql"
	"sync"
)

// hotStatements are the statements every grant runs, prepared once when
// the dialect asks for it.
var hotStatements = []string{
	sqlSavepoint, sqlRollbackToSavepoint, sqlReleaseSavepoint,
	sqlBumpHead, sqlInsertAudit, sqlSetHeadHash,
	sqlInsertGrant, sqlInsertGrantParcel,
}

// stmtCache holds the hot write statements prepared once on the writer,
// for engines whose driver prepares every statement afresh (SQLite, where
// parsing costs about as much as running). They are prepared at open,
// while the writer connection is free; with a single writer connection,
// tx.Stmt then reuses the statement prepared on it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// newStmtCache prepares queries on db, or returns an empty cache when on
// is false.
func newStmtCache(db *sql.DB, on bool, queries []string) (*stmtCache, error) {
	c := &stmtCache{m: map[string]*sql.Stmt{}}
	if !on {
		return c, nil
	}
	for _, q := range queries {
		st, err := db.Prepare(q)
		if err != nil {
			c.close()
			return nil, err
		}
		c.m[q] = st
	}
	return c, nil
}

// stmt returns the prepared statement for query bound to tx, or nil.
func (c *stmtCache) stmt(tx *sql.Tx, query string) *sql.Stmt {
	c.mu.Lock()
	st := c.m[query]
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return tx.Stmt(st)
}

// exec runs a write statement in tx, prepared once if the cache is on.
func (c *stmtCache) exec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := c.stmt(tx, query); st != nil {
		return st.Exec(args...)
	}
	return tx.Exec(query, args...)
}

// queryRow runs a one-row statement in tx, prepared once if the cache is on.
func (c *stmtCache) queryRow(tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := c.stmt(tx, query); st != nil {
		return st.QueryRow(args...)
	}
	return tx.QueryRow(query, args...)
}

// close releases the prepared statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}
