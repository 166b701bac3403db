package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/sqlite"
)

// TestAuditVerifyCommand: `doorman audit verify` passes an intact log and,
// after a row is edited in the database, names the chain and seq that break
// and exits non-zero.
func TestAuditVerifyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := seedDemo(ctx, app.New(store, app.Config{}), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// Without a key (nothing ever ran serve here) verify refuses, unless
	// told to check the hash chains alone.
	if err := run(ctx, []string{"audit", "verify", "--data-dir", dir}, &out, &out); err == nil || !strings.Contains(err.Error(), "no audit checkpoint key") {
		t.Fatalf("verify without a checkpoint key: %v", err)
	}
	if err := run(ctx, []string{"audit", "verify", "--data-dir", dir, "--chains-only"}, &out, &out); err != nil {
		t.Fatalf("intact log: %v\n%s", err, out.String())
	}
	if _, err := store.DB().ExecContext(ctx, `UPDATE audit_entries SET detail = 'edited' WHERE chain = $1 AND seq = 2`, seeded.Building.ID); err != nil {
		t.Fatal(err)
	}
	store.Close()

	out.Reset()
	err = run(ctx, []string{"audit", "verify", "--data-dir", dir, "--chains-only"}, &out, &out)
	if err == nil {
		t.Fatalf("an edited log verified:\n%s", out.String())
	}
	if want := "chain " + seeded.Building.ID + " broken at seq 2"; !strings.Contains(out.String(), want) {
		t.Fatalf("output %q lacks %q", out.String(), want)
	}
}
