package natsbus

import (
	"context"
	"testing"
)

// TestEmbedded_SyncAlways: JetStream fsyncs every write of device events.
func TestEmbedded_SyncAlways(t *testing.T) {
	b, err := Open(context.Background(), Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if c := b.srv.JetStreamConfig(); c == nil || !c.SyncAlways {
		t.Fatalf("JetStream config %+v, want sync always", c)
	}
}
