package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// jtisFrom turns fuzz bytes into storable token IDs.
func jtisFrom(data []byte) []string {
	var out []string
	for i, chunk := range bytes.SplitN(data, []byte{0}, 8) {
		jti := fmt.Sprintf("cmd_%d_%x", i, chunk)
		if len(jti) > maxJTILength {
			jti = jti[:maxJTILength]
		}
		out = append(out, jti)
	}
	return out
}

// seenIDs lists the token IDs a store remembers, sorted.
func seenIDs(s *ReplayStore) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// mustWholeLog checks that the file at path is a replay log of whole
// records only and returns its token IDs, sorted and de-duplicated.
func mustWholeLog(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, valid, format := parseReplayLog(data)
	if format != replayFormatRecords || valid != len(data) || !bytes.HasPrefix(data, []byte(replayMagic)) {
		t.Fatalf("after open the log is not whole records (format %d, %d of %d bytes)", format, valid, len(data))
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.jti)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// FuzzReplayLog writes arbitrary replay logs, and logs of whole records
// with a torn tail, and opens them: opening never fails, never loses a
// whole record, never accepts a torn one, and leaves a file of whole
// records that later appends and reopens keep. A disk that fills in the
// middle of an append loses nothing either. The seeds run in every go
// test.
func FuzzReplayLog(f *testing.F) {
	f.Add([]byte(""), uint16(0), uint8(0))
	f.Add([]byte("1765000000 cmd_a\n1765000001 cmd_b\n"), uint16(3), uint8(20))
	f.Add([]byte("1765000000 cmd_ab1765000003 cmd_c\n"), uint16(7), uint8(9))
	f.Add([]byte(replayMagic+"\x00\x00\x00\x0a\xff"), uint16(1), uint8(1))
	f.Add(appendReplayRecord([]byte(replayMagic), 1765000000, "cmd_x"), uint16(40), uint8(0))
	f.Add([]byte("doorman replay"), uint16(2), uint8(255))
	f.Add([]byte("a\x00b\x00c"), uint16(11), uint8(13))
	never := func() time.Time { return time.Time{} } // untrusted: forgets nothing

	f.Fuzz(func(t *testing.T, data []byte, cut uint16, free uint8) {
		dir := t.TempDir()

		// Arbitrary contents: whatever parses is kept, the file becomes
		// whole records.
		path := filepath.Join(dir, "arbitrary.log")
		os.WriteFile(path, data, 0o600)
		parsed, _, _ := parseReplayLog(data)
		s, err := OpenReplayStore(path, never)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		var want []string
		for _, e := range parsed {
			want = append(want, e.jti)
		}
		slices.Sort(want)
		want = slices.Compact(want)
		if got := seenIDs(s); !slices.Equal(got, want) {
			t.Fatalf("open kept %v, the file holds %v", got, want)
		}
		s.Close()
		if got := mustWholeLog(t, path); !slices.Equal(got, want) {
			t.Fatalf("file after open holds %v, want %v", got, want)
		}

		// Whole records and a torn one: the whole ones are kept, the
		// torn one is cut off, and an append after it survives a reopen.
		jtis := jtisFrom(data)
		torn := jtis[len(jtis)-1]
		whole := jtis[:len(jtis)-1]
		log := []byte(replayMagic)
		for i, id := range whole {
			log = appendReplayRecord(log, 1765000000+int64(i), id)
		}
		rec := appendReplayRecord(nil, 1765000999, torn)
		log = append(log, rec[:int(cut)%len(rec)]...)
		path = filepath.Join(dir, "torn.log")
		os.WriteFile(path, log, 0o600)
		s, err = OpenReplayStore(path, never)
		if err != nil {
			t.Fatalf("open torn: %v", err)
		}
		want = slices.Clone(whole)
		slices.Sort(want)
		want = slices.Compact(want)
		if got := seenIDs(s); !slices.Equal(got, want) {
			t.Fatalf("open of a torn log kept %v, want %v", got, want)
		}
		if fresh, err := s.Use("cmd_after_tear", time.Unix(1765001000, 0)); !fresh || err != nil {
			t.Fatalf("append after a tear: %v %v", fresh, err)
		}
		s.Close()
		want = append(want, "cmd_after_tear")
		slices.Sort(want)
		want = slices.Compact(want)
		if got := mustWholeLog(t, path); !slices.Equal(got, want) {
			t.Fatalf("file after a tear and an append holds %v, want %v", got, want)
		}

		// The disk fills in the middle of an append, then space returns.
		disk := NewFullDisk()
		s, err = OpenReplayStoreFS(disk, path, never)
		if err != nil {
			t.Fatal(err)
		}
		rec = appendReplayRecord(nil, 1765001001, "cmd_disk_full")
		disk.SetFree(int64(int(free) % len(rec)))
		if fresh, err := s.Use("cmd_disk_full", time.Unix(1765001001, 0)); fresh || err == nil {
			t.Fatalf("append to a full disk: %v %v, want an error", fresh, err)
		}
		disk.SetFree(-1)
		if fresh, err := s.Use("cmd_space_back", time.Unix(1765001002, 0)); !fresh || err != nil {
			t.Fatalf("append after space returned: %v %v", fresh, err)
		}
		s.Close()
		want = append(want, "cmd_space_back")
		slices.Sort(want)
		if got := mustWholeLog(t, path); !slices.Equal(got, want) {
			t.Fatalf("file after a full disk holds %v, want %v", got, want)
		}
	})
}
