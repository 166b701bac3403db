package agent

import (
	"os"
	"sync"
	"syscall"
)

// FullDisk is an FS over the real one whose free space a test sets: once
// it is used up, a write puts on disk what still fits and fails with
// ENOSPC, as a full disk does, leaving a torn record behind. Truncating
// and removing give space back. It starts with unlimited space.
type FullDisk struct {
	OSFS
	mu   sync.Mutex
	free int64 // bytes that may still be written; < 0 means unlimited
}

// NewFullDisk returns a FullDisk with unlimited space.
func NewFullDisk() *FullDisk { return &FullDisk{free: -1} }

// SetFree sets how many more bytes fit; -1 means unlimited.
func (d *FullDisk) SetFree(n int64) {
	d.mu.Lock()
	d.free = n
	d.mu.Unlock()
}

// take reserves up to n bytes and returns how many fit.
func (d *FullDisk) take(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.free < 0 {
		return n
	}
	fit := int(min(int64(n), d.free))
	d.free -= int64(fit)
	return fit
}

// OpenFile implements FS.
func (d *FullDisk) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &fullDiskFile{File: f, disk: d}, nil
}

type fullDiskFile struct {
	*os.File
	disk *FullDisk
}

func (f *fullDiskFile) Write(p []byte) (int, error) {
	fit := f.disk.take(len(p))
	n, err := f.File.Write(p[:fit])
	if err == nil && fit < len(p) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

// ReplayLogRecords returns how many whole records the replay log at path
// holds, for tests outside the package.
func ReplayLogRecords(path string) int {
	data, _ := os.ReadFile(path)
	entries, _, _ := parseReplayLog(data)
	return len(entries)
}
