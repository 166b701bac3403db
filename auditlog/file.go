package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/doorman-dev/doorman/internal/durable"
)

// The checkpoint files: dir/<chain>.log holds a chain's checkpoints, in
// the order they were signed, each a signed note followed by a blank
// line. A checkpoint note has no blank line in its text, so a record is
// the text, a blank line, the signature lines and a blank line.

// fileName returns the checkpoint file of chain in dir. Chains are
// building IDs and "platform"; anything else is refused rather than
// turned into a path.
func fileName(dir, chain string) (string, error) {
	if chain == "" || len(chain) > 128 || strings.Trim(chain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return "", fmt.Errorf("auditlog: chain %q cannot name a checkpoint file", chain)
	}
	return filepath.Join(dir, chain+".log"), nil
}

// appendFile appends a signed checkpoint to chain's file in dir and
// fsyncs it (and, when it creates the file, the directory) before it
// returns.
func appendFile(dir, chain, msg string) error {
	name, err := fileName(dir, chain)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_, statErr := os.Stat(name)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(msg + "\n"); err != nil {
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
	if errors.Is(statErr, fs.ErrNotExist) {
		return durable.SyncDir(dir)
	}
	return nil
}

// readFile returns the signed notes in chain's file in dir (none if there
// is no file) and the length of the file's whole records: a record torn
// by a crash while it was appended is left out.
func readFile(dir, chain string) ([]string, int64, error) {
	name, err := fileName(dir, chain)
	if err != nil {
		return nil, 0, err
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	var notes []string
	var whole int64
	rest := data
	for len(rest) > 0 {
		text, after, ok := bytes.Cut(rest, []byte("\n\n"))
		if !ok {
			break
		}
		sigs, after2, ok := bytes.Cut(after, []byte("\n\n"))
		if !ok {
			break
		}
		notes = append(notes, string(text)+"\n\n"+string(sigs)+"\n")
		whole += int64(len(text) + 2 + len(sigs) + 2)
		rest = after2
	}
	return notes, whole, nil
}

// truncateTorn cuts a torn record off the end of chain's file, so that
// the next append starts a whole record.
func truncateTorn(dir, chain string) error {
	name, err := fileName(dir, chain)
	if err != nil {
		return err
	}
	_, whole, err := readFile(dir, chain)
	if err != nil {
		return err
	}
	fi, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if fi.Size() == whole {
		return nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(whole); err != nil {
		return err
	}
	return f.Sync()
}

// fileChains lists the chains that have a checkpoint file in dir.
func fileChains(dir string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, err
	}
	var chains []string
	for _, n := range names {
		chains = append(chains, strings.TrimSuffix(filepath.Base(n), ".log"))
	}
	return chains, nil
}
