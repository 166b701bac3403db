//go:build !unix

package main

// openFileLimit returns 1,024: the open-file limit is not read here.
func openFileLimit() int { return 1024 }
