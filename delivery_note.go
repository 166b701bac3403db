package doorman

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDeliveryNoteLen is the most characters a delivery note may have.
const MaxDeliveryNoteLen = 200

// CleanDeliveryNote returns a courier's note on where a parcel was left
// ("with the concierge", "behind the planter at 2B") as it is stored:
// trimmed, with runs of white space made one space. Returns EINVALID for
// a note longer than MaxDeliveryNoteLen characters, not valid UTF-8, or
// holding control characters. An empty note is valid: there is none.
func CleanDeliveryNote(note string) (string, error) {
	if !utf8.ValidString(note) {
		return "", InvalidField("note", "The note must be plain text.")
	}
	note = strings.Join(strings.Fields(note), " ")
	for _, r := range note {
		if unicode.IsControl(r) {
			return "", InvalidField("note", "The note must be plain text.")
		}
	}
	if n := utf8.RuneCountInString(note); n > MaxDeliveryNoteLen {
		return "", InvalidField("note", "The note may have at most %d characters; it has %d.", MaxDeliveryNoteLen, n)
	}
	return note, nil
}

// DeliveryNoteStore keeps where couriers left the parcels they delivered,
// for the resident and the building's manager to read.
type DeliveryNoteStore interface {
	// SetDeliveryNote stores the note of a parcel, replacing any ("" clears
	// it). Returns ENOTFOUND.
	SetDeliveryNote(ctx context.Context, parcelID, note string) error
	// DeliveryNotes returns the notes of those of the parcels that are
	// addressed to the building and have one, by parcel ID.
	DeliveryNotes(ctx context.Context, buildingID string, parcelIDs []string) (map[string]string, error)
}
