package natsbus

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEmbedded_JetStreamOnlyForEarlierEvents: a new data dir runs NATS
// without JetStream (nothing is kept on the bus); one where an earlier
// version kept device events in JetStream runs it, fsyncing every write,
// until ConsumeEvents has recorded them.
func TestEmbedded_JetStreamOnlyForEarlierEvents(t *testing.T) {
	b, err := Open(context.Background(), Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if c := b.srv.JetStreamConfig(); c != nil {
		t.Fatalf("JetStream config %+v in a new data dir", c)
	}

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o700); err != nil {
		t.Fatal(err)
	}
	earlier, err := Open(context.Background(), Config{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer earlier.Close()
	if c := earlier.srv.JetStreamConfig(); c == nil || !c.SyncAlways {
		t.Fatalf("JetStream config %+v, want sync always", c)
	}
}
