package auditlog

import (
	"fmt"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestSeals: the seals a process made are known good without verifying
// them again, and no seal it did not make for that very hash passes
// without a valid signature: not another key's, not another entry's, not
// an altered one; a seal made by another node with the key (or forgotten)
// is verified.
func TestSeals(t *testing.T) {
	signer, verifier := testKey(t)
	otherSigner, _ := testKey(t)
	seals := NewSeals(signer, verifier, 4)
	other := Sealer(otherSigner)
	node2 := NewSeals(signer, verifier, 4)

	entry := func(hash, seal string) *doorman.AuditEntry {
		return &doorman.AuditEntry{Hash: hash, Seal: seal}
	}
	mine, err := seals.Seal("h1")
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other("h1")
	fromNode2, _ := node2.Seal("h2")
	altered := mine[:len(mine)-3] + "AA=" // a different signature, still base64
	if altered == mine {
		t.Fatal("altered seal equals the original")
	}
	cases := []struct {
		name string
		e    *doorman.AuditEntry
		want bool
	}{
		{"made here", entry("h1", mine), true},
		{"another key's seal", entry("h1", foreign), false},
		{"this seal on another entry", entry("h3", mine), false},
		{"altered", entry("h1", altered), false},
		{"none", entry("h1", ""), false},
		{"made by another node with the key", entry("h2", fromNode2), true},
	}
	for _, c := range cases {
		if got := seals.Sealed(c.e); got != c.want {
			t.Errorf("%s: Sealed = %v, want %v", c.name, got, c.want)
		}
	}

	// Past its memory, its own old seals still verify by signature.
	for i := range 10 {
		if _, err := seals.Seal(fmt.Sprint("later", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(seals.made) != 4 {
		t.Errorf("remembers %d seals, want 4", len(seals.made))
	}
	if !seals.Sealed(entry("h1", mine)) || seals.Sealed(entry("h1", altered)) {
		t.Error("a forgotten seal is not verified by its signature")
	}
}
