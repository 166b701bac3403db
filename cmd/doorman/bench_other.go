//go:build !linux

package main

import "syscall"

// benchChild: only Linux can tie a child's life to its parent's; elsewhere
// the bench stops its processes when it returns.
func benchChild() *syscall.SysProcAttr { return nil }
