package agent

import (
	"fmt"
	"os"
)

// ReadPrivateFile reads a file of the data dir that must not be accessible
// to group or others: secrets and hardware settings live there, and a
// leaky mode means someone else could have read or changed them.
func ReadPrivateFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("agent: %s is accessible by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	return os.ReadFile(path)
}
