package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// reopenFails is an FS whose opening of a file for appending fails while
// fail is set (the moment after a compaction has renamed the new log into
// place), and whose creating of a file fails while failCreate is set.
type reopenFails struct {
	OSFS
	fail, failCreate atomic.Bool
}

func (f *reopenFails) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if (flag&os.O_APPEND != 0 && f.fail.Load()) || (flag&os.O_CREATE != 0 && f.failCreate.Load()) {
		return nil, errors.New("simulated: too many open files")
	}
	return f.OSFS.OpenFile(name, flag, perm)
}

// TestReplayLog_ReopenFailsAfterCompaction: a compaction renames the new
// log into place and then cannot open it (no file descriptors left, say).
// The old file is no longer the log; a token recorded into it would be
// lost at the next start and could open the door again. The store must
// refuse to record (the command is refused) until it can append to the
// log again, and then record there.
func TestReplayLog_ReopenFailsAfterCompaction(t *testing.T) {
	fsys := &reopenFails{}
	path := filepath.Join(t.TempDir(), "replay.log")
	now := time.Now()
	clock := func() time.Time { return now }
	s, err := OpenReplayStoreFS(fsys, path, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	until := now.Add(time.Minute)
	for i := range compactAfter {
		if ok, err := s.Use("jti-"+strconv.Itoa(i), until); err != nil || !ok {
			t.Fatalf("Use %d = %v, %v", i, ok, err)
		}
	}
	fsys.fail.Store(true)
	// This one is durable, then the compaction it starts fails to reopen.
	if ok, err := s.Use("jti-compacting", until); err != nil || !ok {
		t.Fatalf("Use before the compaction = %v, %v", ok, err)
	}
	// The next compaction cannot even write its new log.
	fsys.failCreate.Store(true)
	ok, err := s.Use("jti-after", until)
	if err == nil {
		// Recorded: it must be in the log on disk.
		s2, err := OpenReplayStoreFS(OSFS{}, path, clock)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		if again, _ := s2.Use("jti-after", until); again {
			t.Fatal("a token recorded after a failed reopen was lost from the log: it could open the door again after a restart")
		}
	} else if ok || !errors.Is(err, errStorage) {
		t.Fatalf("Use while the log cannot be opened = %v, %v; want a storage error", ok, err)
	}

	// Once the log opens again, tokens are recorded in it.
	fsys.fail.Store(false)
	fsys.failCreate.Store(false)
	if ok, err := s.Use("jti-later", until); err != nil || !ok {
		t.Fatalf("Use after the log opens again = %v, %v", ok, err)
	}
	if ok, _ := s.Use("jti-compacting", until); ok {
		t.Fatal("a token recorded before the compaction was forgotten")
	}
	s.Close()
	s3, err := OpenReplayStoreFS(OSFS{}, path, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	for _, jti := range []string{"jti-compacting", "jti-later"} {
		if again, _ := s3.Use(jti, until); again {
			t.Fatalf("%s not in the log after a restart", jti)
		}
	}
}
