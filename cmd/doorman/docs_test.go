//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// apiDoc is the walk-through whose shell examples TestDocsAPIExamples runs.
const apiDoc = "../../docs/api.md"

// docsSkipMarker, on the line before a ```sh block (blank lines between
// allowed), marks the block as illustrative only: the test does not run it.
const docsSkipMarker = "<!-- docs-test: skip"

// docsScript returns the ```sh blocks of a Markdown document as one bash
// script whose line numbers are the document's: every line that is not in
// a block the test runs is left empty, so that an error at script line N
// is at line N of the document. Line 1 (the document's title) carries an
// ERR trap that names the failing line and command.
func docsScript(doc []byte) (script string, blocks int, err error) {
	lines := strings.Split(string(doc), "\n")
	out := make([]string, len(lines))
	inBlock, run, skipNext := false, false, false
	for i, l := range lines {
		switch {
		case !inBlock && strings.HasPrefix(strings.TrimSpace(l), "```"):
			lang := strings.TrimPrefix(strings.TrimSpace(l), "```")
			if lang == "bash" || lang == "shell" {
				return "", 0, fmt.Errorf("line %d: write shell examples as ```sh, which the test runs", i+1)
			}
			inBlock, run = true, lang == "sh" && !skipNext
			if run {
				blocks++
			}
			skipNext = false
		case inBlock && strings.TrimSpace(l) == "```":
			inBlock = false
		case inBlock && run:
			out[i] = l
		case inBlock:
		case strings.HasPrefix(strings.TrimSpace(l), docsSkipMarker):
			skipNext = true
		case strings.TrimSpace(l) != "":
			if skipNext {
				return "", 0, fmt.Errorf("line %d: %q is not followed by a code block", i+1, docsSkipMarker)
			}
		}
	}
	if inBlock {
		return "", 0, fmt.Errorf("a code block is not closed")
	}
	if out[0] != "" {
		return "", 0, fmt.Errorf("line 1 is code; it must be the title")
	}
	out[0] = `set -E; trap 'echo "docs/api.md:$LINENO: failed: $BASH_COMMAND" >&2' ERR`
	return strings.Join(out, "\n"), blocks, nil
}

// TestDocsScript checks the extraction: line numbers kept, skipped and
// non-sh blocks left out, a dangling marker and a ```bash block refused.
func TestDocsScript(t *testing.T) {
	doc := "# T\n\ntext\n```sh\necho a\n```\n" + docsSkipMarker + " -->\n\n```sh\necho b\n```\n```json\n{}\n```\n```sh\necho c\n```\n"
	script, n, err := docsScript([]byte(doc))
	if err != nil || n != 2 {
		t.Fatalf("%d blocks, %v", n, err)
	}
	lines := strings.Split(script, "\n")
	if lines[4] != "echo a" || lines[15] != "echo c" || strings.Contains(script, "echo b") || strings.Contains(script, "{}") {
		t.Fatalf("script:\n%s", script)
	}
	if _, _, err := docsScript([]byte("# T\n" + docsSkipMarker + " -->\ntext\n```sh\necho\n```\n")); err == nil {
		t.Fatal("a marker before text was accepted")
	}
	if _, _, err := docsScript([]byte("# T\n```bash\necho\n```\n")); err == nil {
		t.Fatal("a bash block was accepted")
	}
}

// TestDocsAPIExamples runs the shell examples of docs/api.md as written,
// top to bottom in one bash with -euo pipefail, against a fresh `doorman
// serve` and against the demo, with API and OP set as the document tells
// its readers to, and AGENT set to the doorman-agent the test built (the
// document builds one when AGENT is unset). Any failing command fails it.
func TestDocsAPIExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the examples of docs/api.md need bash, curl and jq, and %s is not on the PATH: install it (apt-get install curl jq)", tool)
		}
	}
	doc, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	script, blocks, err := docsScript(doc)
	if err != nil {
		t.Fatalf("docs/api.md: %v", err)
	}
	if blocks < 10 {
		t.Fatalf("docs/api.md: only %d shell blocks to run", blocks)
	}
	bin, err := binaries()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("serve", func(t *testing.T) {
		dir := t.TempDir()
		serve := start(t, "doorman", "serve", "--data-dir", dir+"/server", "--http-addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--log-format", "json")
		operator := serve.waitFor(t, regexp.MustCompile(`^(dmo_\S+)$`))
		base := serve.waitFor(t, regexp.MustCompile(`"msg":"doorman listening".*"addr":"(http://[^"]+)"`))
		runDocsScript(t, script, base, operator, filepath.Join(bin, "doorman-agent"))
	})

	t.Run("demo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var logs lockedBuffer
		cfg := DefaultConfig()
		cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
		d, err := StartDemo(ctx, cfg, t.TempDir(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		defer func() {
			if t.Failed() {
				t.Logf("demo log:\n%s", logs.String())
			}
		}()
		runDocsScript(t, script, d.Main.URL(), d.Operator, filepath.Join(bin, "doorman-agent"))
	})
}

// runDocsScript runs script with bash -euo pipefail from the repository
// root, in a process group of its own that is killed afterwards (the
// script starts a door agent in the background and stops it on exit; the
// group is the safety net).
func runDocsScript(t *testing.T, script, api, operator, agent string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "api.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", path)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "API="+api, "OP="+operator, "AGENT="+agent, "TMPDIR="+dir)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	began := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("docs/api.md examples failed after %s: %v\n%s%s", time.Since(began).Round(time.Millisecond), err, out.String(), agentLog(dir))
	}
	t.Logf("docs/api.md examples ran in %s", time.Since(began).Round(time.Millisecond))
}

// agentLog returns the log the script's door agent wrote, if any.
func agentLog(tmp string) string {
	logs, _ := filepath.Glob(filepath.Join(tmp, "*", "agent.log"))
	var b strings.Builder
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		fmt.Fprintf(&b, "\n--- %s:\n%s", l, data)
	}
	return b.String()
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
