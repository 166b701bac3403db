package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/doorman-dev/doorman/internal/durable"
	"github.com/doorman-dev/doorman/wire"
)

// compactAfter is how many appended entries the replay log may hold beyond
// its live ones before it is rewritten.
const compactAfter = 1024

// ReplayStore is the device's durable memory of used command token IDs: an
// append-only file of "<forget-after unix seconds> <jti>" lines, fsynced
// before a token is accepted (so a crash right after a pulse cannot forget
// it), and compacted by rewriting only the entries still needed. An entry
// is kept until a second past the token's expiry, after which the verifier
// refuses the token as expired anyway.
//
// Entries are only ever forgotten by a trusted clock: the store's clock
// returns the zero time while it cannot be trusted (the agent's, before its
// first signed time sync), and then nothing is forgotten, neither at open
// nor at compaction. A device that boots with its clock far ahead must not
// forget the tokens it spent.
type ReplayStore struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	now      func() time.Time
	seen     map[string]time.Time
	appended int
}

var _ wire.ReplayGuard = (*ReplayStore)(nil)

// OpenReplayStore opens (or creates) the replay log at path. now is the
// clock entries are forgotten by; it returns the zero time while it cannot
// be trusted, and then nothing is forgotten. A torn last line, as a crash
// mid-append leaves, is dropped: its token was never acted on, because
// acting waits for the fsync.
func OpenReplayStore(path string, now func() time.Time) (*ReplayStore, error) {
	s := &ReplayStore{path: path, now: now, seen: map[string]time.Time{}}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("agent: replay log: %w", err)
	}
	t := now()
	for _, line := range bytes.Split(data, []byte("\n")) {
		exp, jti, ok := bytes.Cut(line, []byte(" "))
		if !ok || !validJTI(string(jti)) {
			continue
		}
		sec, err := strconv.ParseInt(string(exp), 10, 64)
		if err != nil {
			continue
		}
		if until := time.Unix(sec, 0); t.IsZero() || until.After(t) {
			s.seen[string(jti)] = until
		}
	}
	if err := s.compact(); err != nil {
		return nil, err
	}
	return s, nil
}

// Use records jti until the given time and reports whether it was unused.
func (s *ReplayStore) Use(jti string, until time.Time) (bool, error) {
	if !validJTI(jti) {
		return false, fmt.Errorf("token ID is not storable")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return false, fmt.Errorf("replay store closed")
	}
	if exp, ok := s.seen[jti]; ok {
		if t := s.now(); t.IsZero() || exp.After(t) {
			return false, nil
		}
	}
	// Round up, so the entry never expires before the token does.
	sec := until.Unix()
	if until.Nanosecond() > 0 {
		sec++
	}
	if _, err := fmt.Fprintf(s.f, "%d %s\n", sec, jti); err != nil {
		return false, err
	}
	if err := s.f.Sync(); err != nil {
		return false, err
	}
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
// them while the clock is untrusted) and reopens it for appending.
func (s *ReplayStore) compactLocked() error {
	t := s.now()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	for jti, until := range s.seen {
		if !t.IsZero() && !until.After(t) {
			delete(s.seen, jti)
			continue
		}
		fmt.Fprintf(w, "%d %s\n", until.Unix(), jti)
	}
	w.Flush()
	if err := durable.WriteFile(s.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("agent: replay log: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("agent: replay log: %w", err)
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.appended = f, 0
	return nil
}

// validJTI reports whether a token ID can be written as one log field.
func validJTI(jti string) bool {
	if jti == "" || len(jti) > 64 {
		return false
	}
	for i := 0; i < len(jti); i++ {
		if jti[i] <= ' ' || jti[i] > '~' {
			return false
		}
	}
	return true
}
