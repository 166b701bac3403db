package natsbus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// TestTimeService_OfflineWindow: a time reply carries the door's offline
// window as Config.OfflineWindow gives it, looked up once per door per
// OfflineWindowCacheTTL; a door whose lookup fails, or gives a window out
// of bounds, is told 0 (no offline grants), and the failure is not cached.
func TestTimeService_OfflineWindow(t *testing.T) {
	signer := MustSigner(t)
	var mu sync.Mutex
	calls := map[string]int{}
	windows := map[string]time.Duration{}
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", Signer: signer, CommandTimeout: 2 * time.Second,
		Devices: testDevices,
		OfflineWindow: func(ctx context.Context, doorID string) (time.Duration, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[doorID]++
			w, ok := windows[doorID]
			if !ok {
				return 0, doorman.Errorf(doorman.ENOTFOUND, "Door not found.")
			}
			return w, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	week, off, unknown, huge := MustDevice(t, b), MustDevice(t, b), MustDevice(t, b), MustDevice(t, b)
	mu.Lock()
	windows[week.DoorID] = 7 * 24 * time.Hour
	windows[off.DoorID] = 0
	windows[huge.DoorID] = wire.MaxOfflineWindow + time.Hour
	mu.Unlock()

	ask := func(d *Device) time.Duration {
		t.Helper()
		nonce := wire.NewEventID() // any fresh string of the nonce's alphabet
		req, _ := wire.Encode(&wire.TimeRequest{Nonce: nonce}, wire.MaxMessageSize)
		msg, err := d.NC.Request(wire.TimeSubject(d.DoorID), req, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := wire.NewVerifier(wire.VerifierConfig{DoorID: d.DoorID, Keys: []wire.VerifyKey{signer.VerifyKey()}, Replay: wire.NewMemoryReplay(nil)})
		r, err := v.VerifyTimeReply(msg.Data, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return r.OfflineWindow
	}
	for _, tc := range []struct {
		name string
		d    *Device
		want time.Duration
	}{
		{"a week", week, 7 * 24 * time.Hour},
		{"off", off, 0},
		{"lookup fails", unknown, 0},
		{"out of bounds", huge, 0},
	} {
		if got := ask(tc.d); got != tc.want {
			t.Errorf("%s: window %s, want %s", tc.name, got, tc.want)
		}
	}
	// Within the cache's life a second sync asks nobody; a failed lookup
	// is asked again.
	ask(week)
	ask(unknown)
	mu.Lock()
	if calls[week.DoorID] != 1 || calls[unknown.DoorID] != 2 {
		t.Errorf("lookups: %v; want 1 for the cached door, 2 for the failing one", calls)
	}
	// A manager's change reaches the door after the cache's life.
	windows[week.DoorID] = 0
	mu.Unlock()
	time.Sleep(natsbus.OfflineWindowCacheTTL + 100*time.Millisecond)
	if got := ask(week); got != 0 {
		t.Errorf("after the change: window %s, want 0", got)
	}
}
