// Package tmpfs mounts small tmpfs file systems for tests that must run
// out of disk space for real: a database's or a device's data dir that
// fills up. It imports only the standard library, and only tests import
// it.
package tmpfs

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size (as mount's size= option takes it, e.g.
// "48m") on a new temporary directory, unmounted when the test ends. Where
// it cannot (not root) it skips the test, except under CI (the CI
// variable set), which runs as root and must not skip.
func Mount(tb testing.TB, size string) string {
	tb.Helper()
	dir := tb.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("mount a tmpfs (CI runs as root): %v: %s", err, out)
		}
		tb.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			tb.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes the file name until the disk it is on is full, and returns
// how many bytes it wrote. Removing the file gives the space back.
func Fill(tb testing.TB, name string) int64 {
	tb.Helper()
	f, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4<<10)
	var n int64
	for {
		w, err := f.Write(buf)
		n += int64(w)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				tb.Fatal(err)
			}
			return n
		}
	}
}
