package natsbus

import (
	"fmt"
	"io/fs"
	"path/filepath"
)

// SpaceError is Open's error when the disk holding the embedded
// JetStream store has less free space than the store may take.
type SpaceError struct {
	Dir  string // the JetStream store directory
	Need int64  // bytes the store may still grow by
	Free int64  // bytes free for this process on Dir's disk
	// Hint says what to do; empty says it in Config's terms. A program
	// sets it to name its own flag.
	Hint string
}

func (e *SpaceError) Error() string {
	hint := e.Hint
	if hint == "" {
		hint = "lower the store size (StoreMax) or free space"
	}
	return fmt.Sprintf("embedded NATS: JetStream needs %d bytes (%s) free in %s, %d (%s) available; %s",
		e.Need, sizeString(e.Need), e.Dir, e.Free, sizeString(e.Free), hint)
}

// checkStoreSpace returns a *SpaceError unless the disk holding dir has
// room for the store to grow to max bytes. Without this check the server
// starts, refuses JetStream to the account (a line in its log), and the
// first JetStream request answers only "no responders".
func checkStoreSpace(dir string, max int64) error {
	free, ok := diskFree(dir)
	if !ok {
		free, ok = diskFree(filepath.Dir(dir)) // dir not created yet
	}
	if !ok {
		return nil // unknown on this platform: NATS finds out when it writes
	}
	need := max - dirSize(dir)
	if need > free {
		return &SpaceError{Dir: dir, Need: need, Free: free}
	}
	return nil
}

// dirSize returns the bytes the files under dir take (0 if it does not
// exist).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// sizeString formats n bytes in binary units for people.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
