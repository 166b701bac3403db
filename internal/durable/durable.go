// Package durable writes files so that they survive a crash: whole or not
// at all, and on disk when the call returns. Both the control plane and the
// device agent use it; it imports only the standard library, so the agent
// links nothing of the server by using it.
package durable

import (
	"os"
	"path/filepath"
)

// WriteFile writes data to path atomically with the given mode: a
// temporary file in the same directory, fsync, rename over path, fsync of
// the directory. After a crash path holds the old or the new content,
// never a mix.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making renames and removals in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
