package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/sqlite"
)

// wantNotReady checks that /readyz answers 503 with reason.
func wantNotReady(t *testing.T, m *Main, reason string) {
	t.Helper()
	status, body := get(t, m.URL()+"/readyz")
	var p struct{ Reason, Detail string }
	_ = json.Unmarshal([]byte(body), &p)
	if status != 503 || p.Reason != reason {
		t.Fatalf("/readyz: %d %s, want 503 with reason %s", status, body, reason)
	}
}

// TestReadyz: readiness answers whether a grant can be committed and a
// command sent, not merely whether the store answers a read: a store that
// reads but cannot write (a full disk; here its writer is closed under it)
// and a bus connection that is down each make /readyz 503 and say which.
func TestReadyz(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		m := node(t, t.TempDir(), "")
		serving(t, m)
		if status, body := get(t, m.URL()+"/readyz"); status != 200 {
			t.Fatalf("/readyz: %d %s", status, body)
		}
	})
	t.Run("store cannot write", func(t *testing.T) {
		m := node(t, t.TempDir(), "")
		serving(t, m)
		// The readers still answer, as they do on a full disk.
		m.Store.(*sqlite.Store).DB().Close()
		wantNotReady(t, m, "store_not_writable")
	})
	t.Run("bus disconnected", func(t *testing.T) {
		m := node(t, t.TempDir(), "")
		serving(t, m)
		m.Bus.Conn().Close()
		wantNotReady(t, m, "bus_disconnected")
	})
}

// TestServe_StoreMaxOverFreeSpace: `doorman serve` on a data dir where an
// earlier version kept device events in JetStream, with a JetStream store
// larger than the data disk's free space, does not start, and its error
// says why and what to do, instead of "no responders".
func TestServe_StoreMaxOverFreeSpace(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "nats", "jetstream"), 0o700); err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Skipf("statfs: %v", err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	want := free + 1<<30
	t.Setenv("DOORMAN_NATS_STORE_MAX", strconv.FormatInt(want, 10))
	// On success serve would run until ctx ends: bound it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := runServe(ctx, []string{"--data-dir", dir, "--http-addr", "127.0.0.1:0",
		"--nats-listen", "127.0.0.1:0", "--log-level", "error"}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve started")
	}
	msg := err.Error()
	for _, part := range []string{"embedded NATS: JetStream needs " + strconv.FormatInt(want, 10) + " bytes", "free in " + filepath.Join(dir, "nats", "jetstream"), "available", "lower --nats-store-max"} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not say %q", msg, part)
		}
	}
}

// TestStoreMaxFlag: --nats-store-max and DOORMAN_NATS_STORE_MAX take a
// size with a binary unit or in bytes; the default is natsbus's.
func TestStoreMaxFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  string
		want int64
	}{
		{nil, "", natsbus.DefaultStoreMax},
		{[]string{"--nats-store-max", "512MiB"}, "", 512 << 20},
		{[]string{"--nats-store-max", "2GiB"}, "", 2 << 30},
		{nil, "3000000", 3000000},
		{[]string{"--nats-store-max", "1TiB"}, "64MiB", 1 << 40},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg := DefaultConfig()
		cfg.busFlags(fs)
		if c.env != "" {
			t.Setenv("DOORMAN_NATS_STORE_MAX", c.env)
		}
		if err := parseFlags(fs, c.args); err != nil || cfg.NATSStoreMax != c.want {
			t.Errorf("%v with env %q: %d, %v; want %d", c.args, c.env, cfg.NATSStoreMax, err, c.want)
		}
	}
	for _, bad := range []string{"0", "-1", "1GB", "lots", "9999999TiB"} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg := DefaultConfig()
		cfg.busFlags(fs)
		if err := parseFlags(fs, []string{"--nats-store-max", bad}); err == nil {
			t.Errorf("--nats-store-max %s accepted as %d", bad, cfg.NATSStoreMax)
		}
	}
}
