package main

import "syscall"

// benchChild makes a process the bench starts stop when the bench dies,
// however it dies, rather than run on unattended.
func benchChild() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
