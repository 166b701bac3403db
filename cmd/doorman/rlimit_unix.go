//go:build unix

package main

import "syscall"

// openFileLimit returns the process's open-file limit (the soft one), or
// 1,024 if it cannot be read.
func openFileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1024
	}
	return int(r.Cur)
}
