package doorman_test

import (
	"sort"
	"sync"
	"testing"

	"github.com/doorman-dev/doorman"
)

func TestIDSequenceIncreases(t *testing.T) {
	var seq doorman.IDSequence
	prev := ""
	for range 10000 { // many within one millisecond
		id := seq.Next(doorman.PrefixAudit)
		if !doorman.HasPrefix(id, doorman.PrefixAudit) {
			t.Fatalf("malformed ID %q", id)
		}
		if id <= prev {
			t.Fatalf("%q does not sort after %q", id, prev)
		}
		prev = id
	}
}

func TestIDSequenceConcurrent(t *testing.T) {
	var seq doorman.IDSequence
	const workers, each = 8, 500
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ids[w] = append(ids[w], seq.Next(doorman.PrefixGrant))
			}
		}()
	}
	wg.Wait()
	var all []string
	for _, w := range ids {
		if !sort.StringsAreSorted(w) {
			t.Fatal("one goroutine's IDs are not increasing")
		}
		all = append(all, w...)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("duplicate ID %q", id)
		}
		seen[id] = true
	}
}
