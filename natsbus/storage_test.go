package natsbus_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/internal/netproxy"
	"github.com/doorman-dev/doorman/natsbus"
)

// freeBytes returns the space an unprivileged process may use in dir.
func freeBytes(tb testing.TB, dir string) int64 {
	tb.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		tb.Skipf("statfs %s: %v", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// TestEmbedded_StoreLargerThanFreeSpace: in a data dir where an earlier
// version kept device events in JetStream, an embedded JetStream store
// larger than the free space of its disk refuses to start, and the error
// says so with the numbers, instead of the "no responders" JetStream
// answers once it has refused the account.
func TestEmbedded_StoreLargerThanFreeSpace(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o700); err != nil {
		t.Fatal(err)
	}
	free := freeBytes(t, dir)
	want := free + 1<<30
	b, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: dir, Listen: "127.0.0.1:0", StoreMax: want})
	if err == nil {
		b.Close()
		t.Fatalf("started with a %d-byte store on a disk with %d bytes free", want, free)
	}
	msg := err.Error()
	for _, part := range []string{"JetStream needs " + strconv.FormatInt(want, 10) + " bytes", "free in " + filepath.Join(dir, "jetstream"), " available"} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not say %q", msg, part)
		}
	}
	if strings.Contains(msg, "no responders") {
		t.Errorf("error %q hides its cause", msg)
	}
}

// TestReady: the bus is ready while its connection is up; a cut
// connection and a closed bus are not, and say why.
func TestReady(t *testing.T) {
	dir := t.TempDir()
	embedded := MustOpenBus(t, dir, MustSigner(t))
	ctx := context.Background()
	if err := embedded.Ready(ctx); err != nil {
		t.Fatalf("embedded bus not ready: %v", err)
	}

	credsFile, _ := ExternalCreds(t, dir)
	proxy := netproxy.Start(t, embedded.ClientURL()[len("tls://"):])
	b, err := natsbus.Open(ctx, natsbus.Config{URL: "tls://" + proxy.Addr, CredsFile: credsFile, CAFile: filepath.Join(dir, "ca.pem"), ExternalTLSFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("external bus not ready: %v", err)
	}
	proxy.Cut()
	waitFor(t, "the cut to be noticed", func() bool { return !b.Conn().IsConnected() })
	err = b.Ready(ctx)
	if doorman.ErrorCode(err) != doorman.EUNAVAILABLE || doorman.ErrorReason(err) != natsbus.ReasonBusDisconnected {
		t.Fatalf("Ready while cut: %v (reason %q)", err, doorman.ErrorReason(err))
	}
	proxy.Restore(t)
	waitFor(t, "the reconnect", b.Conn().IsConnected)
	deadline := time.Now().Add(testWait)
	for b.Ready(ctx) != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("Ready after the reconnect: %v", err)
	}

	embedded.Close()
	if err := embedded.Ready(ctx); doorman.ErrorCode(err) != doorman.EUNAVAILABLE {
		t.Fatalf("Ready of a closed bus: %v", err)
	}
}
