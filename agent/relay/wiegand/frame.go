package wiegand

import (
	"fmt"
	"strings"
)

// Format is a Wiegand frame format, named by its length in bits.
type Format int

// The supported formats.
const (
	// Format26 is HID's H10301, the common 26-bit format: an even parity
	// bit over the next 12 bits, an 8-bit facility code, a 16-bit card
	// number and an odd parity bit over the 12 bits before it.
	Format26 Format = 26
	// Format34 is the 34-bit format with a 16-bit facility code and a
	// 16-bit card number: an even parity bit over the next 16 bits, the 32
	// data bits and an odd parity bit over the 16 bits before it.
	Format34 Format = 34
)

// fields describes where a format puts its data.
type fields struct {
	facilityBits int // the card number follows in cardBits
	cardBits     int
}

// layout returns the format's fields, or an error for an unknown format.
func (f Format) layout() (fields, error) {
	switch f {
	case Format26:
		return fields{facilityBits: 8, cardBits: 16}, nil
	case Format34:
		return fields{facilityBits: 16, cardBits: 16}, nil
	}
	return fields{}, fmt.Errorf("wiegand: unknown format %d (26 or 34)", int(f))
}

// MaxFacility returns the largest facility code the format holds.
func (f Format) MaxFacility() uint32 {
	l, _ := f.layout()
	return 1<<l.facilityBits - 1
}

// MaxCard returns the largest card number the format holds.
func (f Format) MaxCard() uint32 {
	l, _ := f.layout()
	return 1<<l.cardBits - 1
}

// Credential is what a card presents: the facility (site) code and the
// card number, in a format.
type Credential struct {
	Format   Format
	Facility uint32
	Card     uint32
}

// String returns the credential as panels list it, e.g. "26-bit FC 1 card 1".
func (c Credential) String() string {
	return fmt.Sprintf("%d-bit FC %d card %d", int(c.Format), c.Facility, c.Card)
}

// Validate returns an error for an unknown format or a facility code or
// card number the format cannot hold.
func (c Credential) Validate() error {
	if _, err := c.Format.layout(); err != nil {
		return err
	}
	if c.Facility > c.Format.MaxFacility() {
		return fmt.Errorf("wiegand: facility code %d out of range for %d-bit (0 to %d)", c.Facility, int(c.Format), c.Format.MaxFacility())
	}
	if c.Card > c.Format.MaxCard() {
		return fmt.Errorf("wiegand: card number %d out of range for %d-bit (0 to %d)", c.Card, int(c.Format), c.Format.MaxCard())
	}
	return nil
}

// Frame is a Wiegand frame: its bits in the order they go on the wire,
// first (the leading parity bit) first. A true bit is a 1, sent as a pulse
// on D1; a false bit is a 0, sent on D0.
type Frame []bool

// String returns the frame as 0s and 1s, first bit first.
func (f Frame) String() string {
	var b strings.Builder
	for _, bit := range f {
		if bit {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// ParseFrame reads a frame written as 0s and 1s (as String writes it, or
// as a logic analyser's capture is transcribed); spaces are ignored.
func ParseFrame(s string) (Frame, error) {
	var f Frame
	for i, r := range s {
		switch r {
		case '0', '1':
			f = append(f, r == '1')
		case ' ':
		default:
			return nil, fmt.Errorf("wiegand: frame character %d is %q, not 0 or 1", i, r)
		}
	}
	return f, nil
}

// Encode returns the credential's frame, most significant bit of each
// field first, with both parity bits set.
func Encode(c Credential) (Frame, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	l, _ := c.Format.layout()
	n := int(c.Format)
	f := make(Frame, n)
	put := func(at, width int, v uint32) {
		for i := range width {
			f[at+i] = v>>(width-1-i)&1 == 1
		}
	}
	put(1, l.facilityBits, c.Facility)
	put(1+l.facilityBits, l.cardBits, c.Card)
	half := (n - 2) / 2
	f[0] = ones(f[1:1+half])%2 == 1     // even parity: the first half and this bit hold an even number of 1s
	f[n-1] = ones(f[1+half:n-1])%2 == 0 // odd parity: the second half and this bit hold an odd number of 1s
	return f, nil
}

// Decode returns the credential a frame carries. The frame's length names
// its format; a frame of another length, or whose parity bits are wrong,
// is refused with an error saying which.
func Decode(f Frame) (Credential, error) {
	format := Format(len(f))
	l, err := format.layout()
	if err != nil {
		return Credential{}, fmt.Errorf("wiegand: %d-bit frame: not a 26- or 34-bit format", len(f))
	}
	n := len(f)
	half := (n - 2) / 2
	if ones(f[:1+half])%2 != 0 {
		return Credential{}, fmt.Errorf("wiegand: %d-bit frame %s: leading (even) parity bit wrong", n, f)
	}
	if ones(f[1+half:])%2 != 1 {
		return Credential{}, fmt.Errorf("wiegand: %d-bit frame %s: trailing (odd) parity bit wrong", n, f)
	}
	get := func(at, width int) uint32 {
		var v uint32
		for i := range width {
			v <<= 1
			if f[at+i] {
				v |= 1
			}
		}
		return v
	}
	return Credential{
		Format:   format,
		Facility: get(1, l.facilityBits),
		Card:     get(1+l.facilityBits, l.cardBits),
	}, nil
}

// ones counts the 1 bits.
func ones(bits []bool) int {
	n := 0
	for _, b := range bits {
		if b {
			n++
		}
	}
	return n
}
