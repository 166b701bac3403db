package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/internal/mailpit"
	"github.com/doorman-dev/doorman/sqlite"
)

// TestOutboxSurvivesKill: `doorman serve` is SIGKILLed while it sends a
// queue of mail over SMTP; restarted, it delivers every message. A
// message the killed server was sending may arrive twice, always with the
// same Message-ID, so receivers drop the duplicate.
func TestOutboxSurvivesKill(t *testing.T) {
	mp := mailpit.Start(t)
	dir := t.TempDir()
	const total = 300
	ids := map[string]bool{}
	{
		store, err := sqlite.Open(context.Background(), filepath.Join(dir, "doorman.db"))
		if err != nil {
			t.Fatal(err)
		}
		sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
		for i := range total {
			m := &doorman.Message{Channel: doorman.ChannelEmail, Target: fmt.Sprintf("r%d@example.org", i), Kind: "test.kill",
				Subject: fmt.Sprintf("Message %d", i), Text: "Body"}
			if err := store.EnqueueMessage(sys, m); err != nil {
				t.Fatal(err)
			}
			ids[m.ID+"@example.org"] = true
		}
		store.Close()
	}
	args := []string{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--log-format", "json",
		"--smtp-url", "smtp://doorman:secret@" + mp.SMTP, "--mail-from", "Doorman <doorman@example.org>",
		"--outbox-interval", "50ms", "--outbox-lease", "3s"}
	listening := regexp.MustCompile(`"msg":"doorman listening".*"addr":"(http://[^"]+)"`)

	first := start(t, "doorman", args...)
	first.waitFor(t, listening)
	deadline := time.Now().Add(60 * time.Second)
	var before int
	for {
		list, err := mp.Messages(context.Background())
		if err == nil && len(list) >= 20 {
			before = len(list)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first server sent %d messages", len(list))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	caught, _ := mp.Messages(context.Background())
	if len(caught) >= total {
		t.Fatalf("the server sent everything (%d) before it was killed: queue more", len(caught))
	}
	t.Logf("killed after %d of %d messages (%d when the kill was decided)", len(caught), total, before)

	second := start(t, "doorman", args...)
	second.waitFor(t, listening)
	deadline = time.Now().Add(90 * time.Second)
	for {
		list, err := mp.Messages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, m := range list {
			if !ids[m.MessageID] {
				t.Fatalf("a message that was not queued: %+v", m)
			}
			seen[m.MessageID]++
		}
		if len(seen) == total {
			dups := len(list) - total
			t.Logf("all %d delivered after the restart; %d duplicates, each with its Message-ID", total, dups)
			if dups > app.DefaultOutboxSenders { // at most the sends in flight at the kill
				t.Errorf("%d duplicates: more than were in flight", dups)
			}
			for id, n := range seen {
				if n > 1 && !strings.HasPrefix(id, doorman.PrefixMessage+"_") {
					t.Errorf("duplicate %s", id)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered after the restart", len(seen), total)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
