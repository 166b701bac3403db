package agent

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/doorman-dev/doorman/wire"
)

// compactAfter is how many appended entries the replay log may hold beyond
// its live ones before it is rewritten. It only decides when expired
// entries are dropped, never which: an entry is forgotten only once its
// token has expired by the trusted clock.
const compactAfter = 1024

// ReplayStore is the device's durable memory of used command token IDs: an
// append-only log of records (see replaylog.go: length, CRC-32C, forget-
// after time, token ID), each fsynced before a token is accepted, so a
// crash right after a pulse cannot forget it, and compacted by rewriting
// only the entries still needed. An entry is kept until a second past the
// token's expiry, after which the verifier refuses the token as expired
// anyway.
//
// A write the disk cut short (full disk, crash) leaves a torn record at
// the end; it is cut off before anything else is appended — at open, and
// at once after a failed append — so no later record is ever written
// behind it and lost.
//
// Entries are only ever forgotten by a trusted clock: the store's clock
// returns the zero time while it cannot be trusted (the agent's, before its
// first signed time sync), and then nothing is forgotten, neither at open
// nor at compaction. A device that boots with its clock far ahead must not
// forget the tokens it spent.
type ReplayStore struct {
	mu   sync.Mutex
	fs   FS
	path string
	f    File
	size int64 // bytes of whole records in the file; a torn tail lies beyond
	torn bool  // an append failed and its bytes may still lie beyond size
	// lost says a compaction put a new log in place but could not open
	// it: f is the old file, which is no longer the log (size is the new
	// log's); Use opens the log before it records anything.
	lost     bool
	now      func() time.Time
	seen     map[string]time.Time
	appended int
}

var _ wire.ReplayGuard = (*ReplayStore)(nil)

// OpenReplayStore opens (or creates) the replay log at path. now is the
// clock entries are forgotten by; it returns the zero time while it cannot
// be trusted, and then nothing is forgotten. A torn last record, as a
// crash or a full disk mid-append leaves, is cut off: its token was never
// acted on, because acting waits for the fsync. A log in the old line
// format is read once and rewritten in the record format.
func OpenReplayStore(path string, now func() time.Time) (*ReplayStore, error) {
	return OpenReplayStoreFS(OSFS{}, path, now)
}

// OpenReplayStoreFS is OpenReplayStore on the file system fsys.
func OpenReplayStoreFS(fsys FS, path string, now func() time.Time) (*ReplayStore, error) {
	s := &ReplayStore{fs: fsys, path: path, now: now, seen: map[string]time.Time{}}
	data, err := fsys.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("agent: replay log: %w", err)
	}
	entries, valid, format := parseReplayLog(data)
	t := now()
	for _, e := range entries {
		if t.IsZero() || e.until.After(t) {
			if cur, ok := s.seen[e.jti]; !ok || e.until.After(cur) {
				s.seen[e.jti] = e.until
			}
		}
	}
	if format != replayFormatRecords || valid == 0 {
		// A new log (or a torn start of one), or one in the old format:
		// write it whole in the record format before anything is
		// appended.
		if err := s.compact(); err != nil {
			return nil, err
		}
		return s, nil
	}
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: replay log: %w", err)
	}
	s.f, s.size = f, int64(valid)
	if valid < len(data) {
		// Cut the torn tail off (this frees space, so it works on a full
		// disk) before anything is appended behind it.
		if err := s.truncateLocked(); err != nil {
			f.Close()
			return nil, fmt.Errorf("agent: replay log: cut torn record: %w", err)
		}
	}
	if len(entries) > len(s.seen) && !t.IsZero() {
		// Some entries expired: drop them. Best effort, the log as it is
		// stays valid (a full disk has no room for the rewrite).
		_ = s.compact()
	}
	return s, nil
}

// Use records jti until the given time and reports whether it was unused.
// It returns only once the record is on disk; if it cannot be written
// (a full disk), it returns an error, and the torn bytes are cut off.
func (s *ReplayStore) Use(jti string, until time.Time) (bool, error) {
	if !validJTI(jti) {
		return false, fmt.Errorf("token ID is not storable")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return false, fmt.Errorf("replay store closed")
	}
	if s.lost {
		// A compaction replaced the log but could not open the new one:
		// the file at hand is no longer the log. Record nothing until the
		// log opens again.
		f, err := s.fs.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return false, fmt.Errorf("%w: replay log: reopen: %w", errStorage, err)
		}
		s.f.Close()
		s.f, s.lost = f, false
	}
	if exp, ok := s.seen[jti]; ok {
		if t := s.now(); t.IsZero() || exp.After(t) {
			return false, nil
		}
	}
	if s.torn {
		if err := s.truncateLocked(); err != nil {
			return false, fmt.Errorf("%w: replay log: cut torn record: %w", errStorage, err)
		}
	}
	// Round up, so the entry never expires before the token does.
	sec := until.Unix()
	if until.Nanosecond() > 0 {
		sec++
	}
	rec := appendReplayRecord(nil, sec, jti)
	_, err := s.f.Write(rec)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		// Part of the record may be on disk: cut it off now, or at the
		// next append, so that no record lands behind it.
		s.torn = true
		_ = s.truncateLocked()
		return false, fmt.Errorf("%w: replay log: %w", errStorage, err)
	}
	s.size += int64(len(rec))
	s.seen[jti] = time.Unix(sec, 0)
	s.appended++
	// Compaction forgets by the clock; while it is untrusted it could only
	// rewrite everything, so it waits.
	if s.appended > compactAfter && !s.now().IsZero() {
		if err := s.compactLocked(); err != nil {
			return true, nil // the entry is durable; compaction can wait
		}
	}
	return true, nil
}

// truncateLocked cuts the file back to its whole records and syncs it.
func (s *ReplayStore) truncateLocked() error {
	if err := s.f.Truncate(s.size); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.torn = false
	return nil
}

// Close closes the log.
func (s *ReplayStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func (s *ReplayStore) compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactLocked()
}

// compactLocked rewrites the log with the entries still needed (all of
// them while the clock is untrusted), atomically, and reopens it for
// appending.
func (s *ReplayStore) compactLocked() error {
	t := s.now()
	buf := []byte(replayMagic)
	for jti, until := range s.seen {
		if !t.IsZero() && !until.After(t) {
			continue
		}
		buf = appendReplayRecord(buf, until.Unix(), jti)
	}
	if err := writeFileAtomic(s.fs, s.path, buf, 0o600); err != nil {
		return fmt.Errorf("agent: replay log: %w", err)
	}
	f, err := s.fs.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// The new log is in place but not open: appending to the old
		// file would write where no restart looks. Use reopens first.
		if s.f != nil {
			s.lost, s.size, s.torn = true, int64(len(buf)), false
		}
		return fmt.Errorf("agent: replay log: %w", err)
	}
	if !t.IsZero() {
		for jti, until := range s.seen {
			if !until.After(t) {
				delete(s.seen, jti)
			}
		}
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.size, s.torn, s.appended, s.lost = f, int64(len(buf)), false, 0, false
	return nil
}

// validJTI reports whether a token ID can be stored: 1 to 64 printable
// ASCII characters without spaces (the old line format needed that).
func validJTI(jti string) bool {
	if jti == "" || len(jti) > maxJTILength {
		return false
	}
	for i := 0; i < len(jti); i++ {
		if jti[i] <= ' ' || jti[i] > '~' {
			return false
		}
	}
	return true
}
