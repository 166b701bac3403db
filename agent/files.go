package agent

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileSync writes data to path atomically with mode 0600: a temp file,
// fsync, rename, fsync of the directory. After a crash the file holds the
// old or the new content, never a mix.
//
// natsbus has its own copy (with a mode argument). It stays duplicated on
// purpose: the agent must not import natsbus (which links nats-server), and
// twenty lines do not justify a shared package that both the device binary
// and the control plane would have to agree on.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
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
	return syncDir(dir)
}

// syncDir fsyncs a directory, making renames and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readPrivateFile reads a file that must not be accessible to group or
// others: secrets live there, and a leaky mode means someone else could
// have read or changed them.
func readPrivateFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("agent: %s is accessible by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	return os.ReadFile(path)
}
