package storetest

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/auditlog"
	"golang.org/x/mod/sumdb/note"
)

// publisher signs checkpoints of a fixture's store with a key of its own
// and publishes them to a directory of its own, both out of the
// database's reach, and verifies the store against them.
type publisher struct {
	f  *fixture
	cp *auditlog.Checkpointer
}

func newPublisher(t *testing.T, f *fixture) *publisher {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "doorman-audit-test")
	must(t, err)
	signer, err := note.NewSigner(skey)
	must(t, err)
	verifier, err := note.NewVerifier(vkey)
	must(t, err)
	sealing, ok := f.s.(interface {
		SetAuditSealer(func(hash string) (string, error))
	})
	if !ok {
		t.Fatal("the store cannot seal audit entries (SetAuditSealer)")
	}
	sealing.SetAuditSealer(auditlog.Sealer(signer))
	return &publisher{f: f, cp: &auditlog.Checkpointer{Store: f.s, Signer: signer, Verifier: verifier, Dir: t.TempDir()}}
}

// publish signs a checkpoint of every chain that grew.
func (p *publisher) publish(t *testing.T) {
	t.Helper()
	must(t, p.cp.Checkpoint(p.f.ctx))
}

// verify returns the breaks of the chains and of the checkpoints.
func (p *publisher) verify(t *testing.T) []doorman.ChainBreak {
	t.Helper()
	breaks, err := p.f.s.VerifyAudit(p.f.ctx)
	must(t, err)
	more, err := auditlog.Verify(p.f.ctx, p.f.s, p.cp.Dir, p.cp.Verifier)
	must(t, err)
	return append(breaks, more...)
}

func (p *publisher) verifyClean(t *testing.T) {
	t.Helper()
	if breaks := p.verify(t); len(breaks) != 0 {
		t.Fatalf("verification of an untouched log: %+v", breaks)
	}
}

// wantRewriteCaught fails unless verification names chain, and checks
// that the checkpointer refuses to sign the rewritten chain.
func (p *publisher) wantRewriteCaught(t *testing.T, chain string) {
	t.Helper()
	breaks := p.verify(t)
	found := false
	for _, b := range breaks {
		if b.Chain == chain {
			found = true
			t.Logf("caught: chain %s seq %d: %s", b.Chain, b.Seq, b.Problem)
		}
	}
	if !found {
		t.Fatalf("verification missed the rewritten chain %s: %+v", chain, breaks)
	}
	// A checkpointer that starts afresh on the same files refuses to
	// sign the rewritten history.
	again := &auditlog.Checkpointer{Store: p.f.s, Signer: p.cp.Signer, Verifier: p.cp.Verifier, Dir: p.cp.Dir}
	if err := again.Checkpoint(p.f.ctx); err == nil && chainStillInDB(t, p.f, chain) {
		t.Fatalf("the checkpointer signed the rewritten chain %s", chain)
	}
}

// chainStillInDB reports whether chain has a head in the database.
func chainStillInDB(t *testing.T, f *fixture, chain string) bool {
	t.Helper()
	heads, err := f.s.AuditHeads(f.ctx)
	must(t, err)
	for _, h := range heads {
		if h.Chain == chain {
			return true
		}
	}
	return false
}

// forgeCheckpointRows replaces chain's checkpoints in the database with
// one the attacker made for the rewritten tree, signed with a key of the
// attacker's that has the real key's name.
func forgeCheckpointRows(t *testing.T, f *fixture, chain string) {
	t.Helper()
	entries, err := f.s.AuditChain(f.ctx, chain, 0, 0)
	must(t, err)
	tree := auditlog.NewTree(entries)
	root, err := tree.Root(tree.Size())
	must(t, err)
	skey, _, err := note.GenerateKey(rand.Reader, "doorman-audit-test")
	must(t, err)
	signer, err := note.NewSigner(skey)
	must(t, err)
	cp, err := auditlog.Sign(signer, chain, tree.Size(), root)
	must(t, err)
	exec(t, f, `DELETE FROM audit_checkpoints WHERE chain = $1`, chain)
	_, err = f.db.Exec(`INSERT INTO audit_checkpoints (chain, size, note, signed_at) VALUES ($1, $2, $3, 0)`,
		chain, tree.Size(), cp.Note)
	must(t, err)
	if !strings.Contains(cp.Note, "doorman-audit-test") {
		t.Fatal("forged note without the key name")
	}
}
