package storetest

import (
	"context"
	"testing"

	"github.com/doorman-dev/doorman"
)

// testProbeWrite: the readiness probe commits, again and again, leaving
// one row; once the database is closed under the store it fails with a
// domain code, as a full disk makes it fail.
func testProbeWrite(t *testing.T, open Opener) {
	s, db := open(t)
	ctx := context.Background()
	for range 3 {
		if err := s.ProbeWrite(ctx); err != nil {
			t.Fatalf("ProbeWrite: %v", err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM readiness_probe`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("readiness_probe holds %d rows (%v), want 1", n, err)
	}
	db.Close()
	err := s.ProbeWrite(ctx)
	if err == nil {
		t.Fatal("ProbeWrite succeeded on a closed database")
	}
	if code := doorman.ErrorCode(err); code != doorman.EINTERNAL && code != doorman.EUNAVAILABLE {
		t.Fatalf("ProbeWrite on a closed database: code %s (%v)", code, err)
	}
}
