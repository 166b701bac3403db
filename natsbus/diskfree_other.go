//go:build !(linux || darwin || freebsd)

package natsbus

// diskFree is unknown on this platform.
func diskFree(string) (int64, bool) { return 0, false }
