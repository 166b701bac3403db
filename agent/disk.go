package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// FS is the file system the replay log and the event queue write
// through. The agent uses the real one (OSFS); tests give one that fills
// up mid-write or tears writes, as a full disk or a crash does, to check
// that the relay never moves without its records on disk.
type FS interface {
	// OpenFile opens a file as os.OpenFile does.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	ReadFile(name string) ([]byte, error)
	ReadDir(name string) ([]os.DirEntry, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(path string, perm os.FileMode) error
}

// File is a file opened by an FS. A Write that fails may have written part
// of its bytes (a full disk does that), which the caller must undo or
// detect.
type File interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// errStorage marks errors of writing the replay log or the event queue
// (a full disk, an I/O error, a full queue): the device cannot record
// what it does, so it does not act.
var errStorage = errors.New("storage fault")

// OSFS is the real file system.
type OSFS struct{}

var _ FS = OSFS{}

// OpenFile implements FS.
func (OSFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // never a typed nil in the interface
	}
	return f, nil
}

// ReadFile implements FS.
func (OSFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// ReadDir implements FS.
func (OSFS) ReadDir(name string) ([]os.DirEntry, error) { return os.ReadDir(name) }

// Rename implements FS.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// MkdirAll implements FS.
func (OSFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }

// tmpPrefix starts the names of temporary files; a crash may leave them,
// and they are never records.
const tmpPrefix = ".tmp-"

// writeFileAtomic writes data to path on fsys so that a crash or a full
// disk leaves the old content or the new, never a mix: a temporary file in
// the same directory, fsync, rename over path, fsync of the directory.
func writeFileAtomic(fsys FS, path string, data []byte, perm os.FileMode) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, tmpPrefix+filepath.Base(path)+"-"+hex.EncodeToString(b[:]))
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err != nil {
		fsys.Remove(tmp)
		return err
	}
	return syncDir(fsys, dir)
}

// syncDir fsyncs a directory, making renames and removals in it durable.
func syncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
