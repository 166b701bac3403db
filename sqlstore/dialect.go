package sqlstore

// ErrorKind classifies a driver error in terms the store can act on.
type ErrorKind int

// Kinds of driver errors.
const (
	// ErrOther is any error the dialect does not recognise.
	ErrOther ErrorKind = iota
	// ErrUnique is a unique or primary key violation.
	ErrUnique
	// ErrForeignKey is a foreign key violation.
	ErrForeignKey
	// ErrInvalidValue is a check, not-null or data exception.
	ErrInvalidValue
	// ErrRetry is a transient conflict (serialization failure, deadlock,
	// busy database) after which the whole transaction may be retried.
	ErrRetry
	// ErrStorageFull is a disk (or quota) too full for the write.
	ErrStorageFull
)

// Dialect carries what differs between SQL engines. Everything else, the
// SQL included, is shared.
type Dialect struct {
	// Name names the engine in error messages, e.g. "sqlite".
	Name string

	// Classify maps a driver error to an ErrorKind.
	Classify func(err error) ErrorKind

	// ShareLock is appended to a SELECT of one row that must not change
	// until the transaction commits, e.g. " FOR SHARE". It is empty for an
	// engine whose write transactions are serialised anyway.
	ShareLock string

	// SkipLocked is appended to a SELECT of rows that a write will delete
	// or change, to lock them while skipping rows another transaction
	// holds, e.g. " FOR UPDATE SKIP LOCKED". Housekeeping that touches
	// whichever rows it finds uses it, so it never waits for, or
	// deadlocks with, another node's writes. It is empty for an engine
	// whose write transactions are serialised anyway.
	SkipLocked string

	// CacheStatements prepares the store's statements once per connection
	// and reuses them (see stmtCache), for a driver that would otherwise
	// parse every statement on every run. Drivers with a statement cache
	// of their own (pgx) do not need it.
	CacheStatements bool

	// MigrationLock, when not empty, is run first in every migration
	// transaction so that two processes opening the same database apply
	// each migration once.
	MigrationLock string
}

// classify is Classify, tolerant of a dialect that has none.
func (d *Dialect) classify(err error) ErrorKind {
	if err == nil || d.Classify == nil {
		return ErrOther
	}
	return d.Classify(err)
}
