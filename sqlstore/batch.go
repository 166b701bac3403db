package sqlstore

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doorman-dev/doorman"
)

// Batching limits.
const (
	// maxBatch is the most writes one transaction carries.
	maxBatch = 256
	// maxAttempts is how often a batch is tried when the engine reports a
	// transient conflict (serialization failure, deadlock, busy).
	maxAttempts = 8
)

// The savepoint around each write of a batch.
const (
	sqlSavepoint           = `SAVEPOINT w`
	sqlRollbackToSavepoint = `ROLLBACK TO SAVEPOINT w`
	sqlReleaseSavepoint    = `RELEASE SAVEPOINT w`
)

// States of a queued write.
const (
	writeQueued int32 = iota
	writeRunning
	writeWithdrawn
)

// write is one caller's write waiting for the batcher.
type write struct {
	key   string
	fn    func(tx *wtx) error
	state atomic.Int32
	err   error
	done  chan struct{}
}

// Stats counts the batcher's work since the store was opened. Writes above
// Commits means concurrent writes shared commits.
type Stats struct {
	// Writes is the number of writes committed.
	Writes uint64
	// Commits is the number of transactions committed.
	Commits uint64
	// Retries is the number of batches run again after a transient conflict.
	Retries uint64
}

// batcher runs every write of the store: a single goroutine drains the
// queue, runs what it found in one transaction, and commits once; a write
// that fails undoes only its own statements (see run).
type batcher struct {
	db       *sql.DB
	classify func(error) ErrorKind
	stmts    *stmtCache

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	queue  chan *write

	gate    sync.Mutex // held while writes are held back
	pending atomic.Int64
	stopped chan struct{}

	writes, commits, retries atomic.Uint64
}

func newBatcher(db *sql.DB, classify func(error) ErrorKind, stmts *stmtCache) *batcher {
	b := &batcher{
		db:       db,
		classify: classify,
		stmts:    stmts,
		queue:    make(chan *write, 4*maxBatch),
		stopped:  make(chan struct{}),
	}
	go b.loop()
	return b
}

// errCancelled is what a write whose context ended before it ran returns.
func errCancelled() error {
	return doorman.Errorf(doorman.EUNAVAILABLE, "The request was cancelled before it was written.")
}

// submit queues fn and waits for the commit (or rollback) of its batch. If
// fn returns an error, its own statements are undone and the other writes
// of the batch still commit. A
// write whose ctx ends before the batcher reaches it is withdrawn and never
// runs; once running it is carried through to the end, so it is never half
// applied. key orders the writes of a batch (writes touching the same rows
// should share a key), which keeps lock order stable across processes. fn
// may run more than once if the batch is retried, so it must set its
// results afresh on each run.
func (b *batcher) submit(ctx context.Context, key string, fn func(tx *wtx) error) error {
	if ctx.Err() != nil {
		return errCancelled()
	}
	w := &write{key: key, fn: fn, done: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return doorman.Errorf(doorman.EUNAVAILABLE, "The store is closed.")
	}
	b.pending.Add(1)
	select {
	case b.queue <- w:
	case <-ctx.Done():
		b.pending.Add(-1)
		b.mu.RUnlock()
		return errCancelled()
	}
	b.mu.RUnlock()

	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		if w.state.CompareAndSwap(writeQueued, writeWithdrawn) {
			return errCancelled()
		}
		<-w.done // already running: its outcome is the answer
		return w.err
	}
}

// loop is the batcher goroutine.
func (b *batcher) loop() {
	defer close(b.stopped)
	for w := range b.queue {
		b.gate.Lock() // wait while writes are held back
		b.gate.Unlock()
		batch := []*write{w}
	drain:
		for len(batch) < maxBatch {
			select {
			case w, ok := <-b.queue:
				if !ok {
					break drain
				}
				batch = append(batch, w)
			default:
				break drain
			}
		}
		b.pending.Add(-int64(len(batch)))
		run := batch[:0]
		for _, w := range batch {
			if w.state.CompareAndSwap(writeQueued, writeRunning) {
				run = append(run, w)
			}
		}
		if len(run) > 0 {
			b.run(run)
		}
		b.stmts.prepareWanted() // the writer connection is free now
	}
}

// run commits a batch and answers every write. The first pass runs the
// writes back to back without savepoints, the common case where all
// succeed costing nothing extra. If one fails, the transaction is rolled
// back, that write is answered with its error, and the rest run again,
// this time each in its own savepoint, so further failures undo only
// themselves. A transient conflict (serialization failure, deadlock, busy
// database) rolls back and retries the whole batch.
func (b *batcher) run(batch []*write) {
	sort.SliceStable(batch, func(i, j int) bool { return batch[i].key < batch[j].key })
	todo, savepoints := batch, false
	for attempt := 1; len(todo) > 0; {
		errs, failed, err := b.try(todo, savepoints)
		switch {
		case err != nil && b.classify(err) == ErrRetry && attempt < maxAttempts:
			attempt++
			b.retries.Add(1)
			time.Sleep(time.Duration(attempt) * time.Duration(1+rand.IntN(4)) * time.Millisecond)
		case err != nil:
			for _, w := range todo {
				w.answer(err)
			}
			return
		case failed >= 0:
			todo[failed].answer(errs[failed])
			todo = append(todo[:failed:failed], todo[failed+1:]...)
			savepoints = true
		default:
			for i, w := range todo {
				w.answer(errs[i])
			}
			return
		}
	}
}

// answer hands the outcome to the waiting caller.
func (w *write) answer(err error) {
	w.err = err
	close(w.done)
}

// try runs the writes in one transaction. Without savepoints it stops at
// the first write that fails, rolls back and returns its index; with
// savepoints it undoes just that write and carries on. err is an error that
// failed the whole transaction; errs holds each write's own error.
func (b *batcher) try(batch []*write, savepoints bool) (errs []error, failed int, err error) {
	ctx := context.Background() // a caller's cancellation must not cut a batch short
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, -1, err
	}
	defer func() {
		if err != nil || failed >= 0 {
			_ = tx.Rollback()
		}
	}()

	errs = make([]error, len(batch))
	var ok uint64
	for i, w := range batch {
		if savepoints {
			if _, err := b.stmts.exec(tx, sqlSavepoint); err != nil {
				return nil, -1, err
			}
		}
		werr := call(w.fn, &wtx{tx: tx, stmts: b.stmts})
		switch {
		case werr != nil && b.classify(werr) == ErrRetry:
			return nil, -1, werr
		case werr != nil && !savepoints:
			errs[i] = werr
			return errs, i, nil
		case werr != nil:
			errs[i] = werr
			if _, err := b.stmts.exec(tx, sqlRollbackToSavepoint); err != nil {
				return nil, -1, err
			}
		default:
			ok++
		}
		if savepoints {
			if _, err := b.stmts.exec(tx, sqlReleaseSavepoint); err != nil {
				return nil, -1, err
			}
		}
	}
	if ok == 0 {
		_ = tx.Rollback()
		return errs, -1, nil
	}
	if err := tx.Commit(); err != nil {
		return nil, -1, err
	}
	b.commits.Add(1)
	b.writes.Add(ok)
	return errs, -1, nil
}

// call runs fn, turning a panic into an error so that one bad write cannot
// take the batcher, and every other caller, down with it.
func call(fn func(tx *wtx) error, tx *wtx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = internal("write", "panic: %v", r)
		}
	}()
	return fn(tx)
}

// hold stops the batcher before its next batch until release is called.
func (b *batcher) hold() (release func()) {
	b.gate.Lock()
	var once sync.Once
	return func() { once.Do(b.gate.Unlock) }
}

// close stops accepting writes, lets the queued ones finish, and waits.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.stopped
	b.stmts.close()
}

func (b *batcher) stats() Stats {
	return Stats{Writes: b.writes.Load(), Commits: b.commits.Load(), Retries: b.retries.Load()}
}
