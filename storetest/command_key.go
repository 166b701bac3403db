package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/doorman-dev/doorman"
)

// Key IDs shaped like PASERK k4.pid strings.
const (
	keyA = "k4.pid.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	keyB = "k4.pid.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
)

// testCommandKeys checks that the first command key registered stays the
// deployment's key: a node with another key gets the registered one back
// and nothing changes, and malformed key IDs write nothing.
func testCommandKeys(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()

	keys, err := s.CommandKeys(ctx)
	must(t, err)
	equal(t, "keys of an empty store", len(keys), 0)

	for _, bad := range []string{"", "k4.pid. space", "k4.pid.\x00", "k4.pid.é", strings.Repeat("k", 129)} {
		_, err := s.InitCommandKey(ctx, bad)
		wantCode(t, err, doorman.EINVALID)
	}
	keys, err = s.CommandKeys(ctx)
	must(t, err)
	equal(t, "keys after malformed IDs", len(keys), 0)

	keys, err = s.InitCommandKey(ctx, keyA)
	must(t, err)
	equal(t, "first registration", keys, []string{keyA})
	keys, err = s.InitCommandKey(ctx, keyA)
	must(t, err)
	equal(t, "same key again", keys, []string{keyA})
	keys, err = s.InitCommandKey(ctx, keyB)
	must(t, err)
	equal(t, "another key", keys, []string{keyA})
	keys, err = s.CommandKeys(ctx)
	must(t, err)
	equal(t, "registered keys", keys, []string{keyA})
}

// testCommandKeysRace starts nodes with different keys at once on two
// stores over one empty database: exactly one key is registered and every
// node is told the same one.
func testCommandKeysRace(t *testing.T, open SharedOpener) {
	a, b, _ := open(t)
	stores := []doorman.Store{a, b}
	const n = 8
	got := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = stores[i%2].InitCommandKey(context.Background(), fmt.Sprintf("k4.pid.node-%d", i))
		}()
	}
	wg.Wait()
	for i := range n {
		must(t, errs[i])
		if len(got[i]) != 1 || got[i][0] != got[0][0] {
			t.Fatalf("node %d was told keys %v, node 0 %v: want one and the same key", i, got[i], got[0])
		}
	}
	if !strings.HasPrefix(got[0][0], "k4.pid.node-") {
		t.Fatalf("registered key %q is none of the nodes' keys", got[0][0])
	}
	for _, s := range stores {
		keys, err := s.CommandKeys(context.Background())
		must(t, err)
		equal(t, "registered keys", keys, got[0])
	}
}
