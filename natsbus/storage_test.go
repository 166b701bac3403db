package natsbus_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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

// TestEmbedded_StoreLargerThanFreeSpace: an embedded JetStream store
// larger than the free space of its disk refuses to start, and the error
// says so with the numbers, instead of the "no responders" the event
// stream's creation answers once JetStream has refused the account.
func TestEmbedded_StoreLargerThanFreeSpace(t *testing.T) {
	dir := t.TempDir()
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

// TestEmbedded_StoreSizesTheEventStream: the event stream's MaxBytes is
// half the store by default, and a stream that does not fit twice into
// the store is refused before anything starts.
func TestEmbedded_StoreSizesTheEventStream(t *testing.T) {
	b, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", StoreMax: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	js, _ := jetstream.New(b.Conn())
	stream, err := js.Stream(context.Background(), natsbus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := stream.CachedInfo().Config.MaxBytes; got != 32<<20 {
		t.Fatalf("event stream MaxBytes %d, want half of a 64 MiB store", got)
	}

	_, err = natsbus.Open(context.Background(), natsbus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0",
		StoreMax: 64 << 20, EventMaxBytes: 48 << 20})
	if err == nil || !strings.Contains(err.Error(), "event stream") {
		t.Fatalf("a 48 MiB event stream in a 64 MiB store: %v", err)
	}
}

// TestReady: the bus is ready while its connection is up and JetStream
// answers for the event stream; a cut connection, a JetStream without the
// stream and a closed bus are not, and say why.
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

	// JetStream no longer answers for the event stream (here it is gone;
	// after a disk error the server disables JetStream altogether).
	js, _ := jetstream.New(embedded.Conn())
	if err := js.DeleteStream(ctx, natsbus.DefaultEventStream); err != nil {
		t.Fatal(err)
	}
	err = embedded.Ready(ctx)
	if doorman.ErrorCode(err) != doorman.EUNAVAILABLE || doorman.ErrorReason(err) != natsbus.ReasonJetStreamUnavailable {
		t.Fatalf("Ready without the event stream: %v (reason %q)", err, doorman.ErrorReason(err))
	}

	embedded.Close()
	if err := embedded.Ready(ctx); doorman.ErrorCode(err) != doorman.EUNAVAILABLE {
		t.Fatalf("Ready of a closed bus: %v", err)
	}
}
