package http

import (
	"context"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestDeliverWithNote: the courier's deliver endpoint takes where the
// parcel was left; a note that is too long or not plain text is refused
// and the parcel stays undelivered.
func TestDeliverWithNote(t *testing.T) {
	f := newFixture(t)
	path := "/v1/courier/parcels/TRK-X-1/delivery"
	tok := f.tokens[pCourierX]
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: tok,
		Body: map[string]any{"note": strings.Repeat("x", doorman.MaxDeliveryNoteLen+1)}})
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: tok,
		Body: map[string]any{"note": "bell\x07"}})
	p, err := f.store.ParcelByTracking(context.Background(), f.carrierX.ID, "TRK-X-1")
	if err != nil || p.Status != doorman.ParcelOutForDelivery {
		t.Fatalf("after refused notes: %+v, %v", p, err)
	}
	f.must(200, request{Method: "POST", Path: path, Token: tok, Body: map[string]any{"note": "  with the   concierge "}})
	notes, err := f.store.DeliveryNotes(context.Background(), f.buildingA.ID, []string{p.ID})
	if err != nil || notes[p.ID] != "with the concierge" {
		t.Fatalf("note %q, %v", notes[p.ID], err)
	}
}
