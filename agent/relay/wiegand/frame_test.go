package wiegand_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// byHand builds a frame the way the format's definition reads, with no
// code of the package: the data bits in binary, an even parity bit in
// front of the first half and an odd parity bit after the second.
func byHand(t *testing.T, facilityBits int, facility, card uint32) string {
	t.Helper()
	data := fmt.Sprintf("%0*b%016b", facilityBits, facility, card)
	half := len(data) / 2
	first, second := data[:half], data[half:]
	even := "0"
	if strings.Count(first, "1")%2 == 1 {
		even = "1" // make the count of 1s over the first half and this bit even
	}
	odd := "0"
	if strings.Count(second, "1")%2 == 0 {
		odd = "1" // make the count of 1s over the second half and this bit odd
	}
	return even + data + odd
}

func TestEncode_KnownVectors(t *testing.T) {
	for _, tc := range []struct {
		cred wiegand.Credential
		want string
	}{
		// H10301 FC 1 card 1: the first 12 data bits hold one 1, so the
		// even parity bit is 1; the last 12 hold one 1 (odd already), so
		// the odd parity bit is 0. 0x2020002 as panels print it.
		{wiegand.Credential{Format: wiegand.Format26, Facility: 1, Card: 1}, "1" + "00000001" + "0000000000000001" + "0"},
		// All zeros: even parity 0, odd parity 1.
		{wiegand.Credential{Format: wiegand.Format26, Facility: 0, Card: 0}, "0" + strings.Repeat("0", 24) + "1"},
		// All ones: 12 ones in each half: even parity 0, odd parity 1.
		{wiegand.Credential{Format: wiegand.Format26, Facility: 255, Card: 65535}, "0" + strings.Repeat("1", 24) + "1"},
		// FC 18 (00010010) card 4660 (0001001000110100): first 12 bits
		// 000100100001 hold three 1s (parity 1), last 12 001000110100
		// hold four (parity 1).
		{wiegand.Credential{Format: wiegand.Format26, Facility: 18, Card: 4660}, "1" + "00010010" + "0001001000110100" + "1"},
		// 34-bit FC 1 card 1: each 16-bit half holds one 1: even parity 1,
		// odd parity 0.
		{wiegand.Credential{Format: wiegand.Format34, Facility: 1, Card: 1}, "1" + "0000000000000001" + "0000000000000001" + "0"},
		// 34-bit FC 0x1234 (five 1s: parity 1) card 0xABCD (ten 1s:
		// parity 1).
		{wiegand.Credential{Format: wiegand.Format34, Facility: 0x1234, Card: 0xABCD}, "1" + "0001001000110100" + "1010101111001101" + "1"},
		{wiegand.Credential{Format: wiegand.Format34, Facility: 65535, Card: 0}, "0" + strings.Repeat("1", 16) + strings.Repeat("0", 16) + "1"},
	} {
		t.Run(tc.cred.String(), func(t *testing.T) {
			f, err := wiegand.Encode(tc.cred)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tc.want {
				t.Fatalf("frame %s, want %s", got, tc.want)
			}
			bits := 8
			if tc.cred.Format == wiegand.Format34 {
				bits = 16
			}
			if hand := byHand(t, bits, tc.cred.Facility, tc.cred.Card); hand != tc.want {
				t.Fatalf("the test's vector %s disagrees with the format's definition %s", tc.want, hand)
			}
			got, err := wiegand.Decode(f)
			if err != nil || got != tc.cred {
				t.Fatalf("decoded as %v, %v", got, err)
			}
		})
	}
}

// TestEncode_MatchesDefinition checks many credentials against byHand.
func TestEncode_MatchesDefinition(t *testing.T) {
	for _, fc := range []uint32{0, 1, 2, 3, 77, 128, 254, 255} {
		for _, card := range []uint32{0, 1, 2, 1000, 12345, 32768, 65534, 65535} {
			f, err := wiegand.Encode(wiegand.Credential{Format: wiegand.Format26, Facility: fc, Card: card})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := f.String(), byHand(t, 8, fc, card); got != want {
				t.Errorf("26-bit FC %d card %d: %s, want %s", fc, card, got, want)
			}
			fc34 := fc*257 ^ 0x0f0f // spreads over 16 bits, at most 65535
			f, err = wiegand.Encode(wiegand.Credential{Format: wiegand.Format34, Facility: fc34, Card: card})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := f.String(), byHand(t, 16, fc34, card); got != want {
				t.Errorf("34-bit FC %d card %d: %s, want %s", fc34, card, got, want)
			}
		}
	}
}

func TestEncode_OutOfRange(t *testing.T) {
	for _, tc := range []struct {
		cred wiegand.Credential
		want string
	}{
		{wiegand.Credential{Format: wiegand.Format26, Facility: 256, Card: 1}, "facility code 256 out of range for 26-bit (0 to 255)"},
		{wiegand.Credential{Format: wiegand.Format26, Facility: 1, Card: 65536}, "card number 65536 out of range for 26-bit (0 to 65535)"},
		{wiegand.Credential{Format: wiegand.Format34, Facility: 65536, Card: 1}, "facility code 65536 out of range for 34-bit (0 to 65535)"},
		{wiegand.Credential{Format: wiegand.Format34, Facility: 1, Card: 1 << 20}, "card number 1048576 out of range for 34-bit"},
		{wiegand.Credential{Format: 37, Facility: 1, Card: 1}, "unknown format 37 (26 or 34)"},
		{wiegand.Credential{Facility: 1, Card: 1}, "unknown format 0"},
	} {
		f, err := wiegand.Encode(tc.cred)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.cred, err, tc.want)
		}
		if f != nil {
			t.Errorf("%v: a refused credential returned the frame %s", tc.cred, f)
		}
	}
}

func TestDecode_Refused(t *testing.T) {
	for _, tc := range []struct {
		frame string
		want  string
	}{
		// FC 1 card 1 with the leading parity bit cleared.
		{"0" + "00000001" + "0000000000000001" + "0", "leading (even) parity bit wrong"},
		// ... and with the trailing parity bit set.
		{"1" + "00000001" + "0000000000000001" + "1", "trailing (odd) parity bit wrong"},
		// A data bit flipped in the first half, then in the second.
		{"1" + "00000011" + "0000000000000001" + "0", "leading (even) parity bit wrong"},
		{"1" + "00000001" + "0000000000000011" + "0", "trailing (odd) parity bit wrong"},
		{"1000000010000000000000001", "25-bit frame: not a 26- or 34-bit format"},
		{"", "0-bit frame"},
		{strings.Repeat("0", 35), "35-bit frame"},
	} {
		f, err := wiegand.ParseFrame(tc.frame)
		if err != nil {
			t.Fatal(err)
		}
		got, err := wiegand.Decode(f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q decoded as %v, %v; want an error saying %q", tc.frame, got, err, tc.want)
		}
	}
}

func TestParseFrame(t *testing.T) {
	f, err := wiegand.ParseFrame("1 00000001 0000000000000001 0")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := wiegand.Decode(f); err != nil || c != (wiegand.Credential{Format: wiegand.Format26, Facility: 1, Card: 1}) {
		t.Fatalf("decoded as %v, %v", c, err)
	}
	if _, err := wiegand.ParseFrame("10x1"); err == nil || !strings.Contains(err.Error(), `character 2 is 'x'`) {
		t.Fatalf("error %v", err)
	}
}

// FuzzRoundTrip: every credential in range decodes to itself, and any
// single flipped bit, parity bits included, is refused by the parity
// check (each bit is covered by exactly one parity bit).
func FuzzRoundTrip(f *testing.F) {
	f.Add(false, uint32(1), uint32(1), uint8(0))
	f.Add(true, uint32(0x1234), uint32(0xABCD), uint8(33))
	f.Add(false, uint32(255), uint32(65535), uint8(25))
	f.Fuzz(func(t *testing.T, long bool, facility, card uint32, flip uint8) {
		cred := wiegand.Credential{Format: wiegand.Format26, Facility: facility, Card: card}
		if long {
			cred.Format = wiegand.Format34
		}
		frame, err := wiegand.Encode(cred)
		if facility > cred.Format.MaxFacility() || card > cred.Format.MaxCard() {
			if err == nil {
				t.Fatalf("%v out of range encoded", cred)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(frame) != int(cred.Format) {
			t.Fatalf("%v: %d bits", cred, len(frame))
		}
		got, err := wiegand.Decode(frame)
		if err != nil || got != cred {
			t.Fatalf("%v decoded as %v, %v", cred, got, err)
		}
		i := int(flip) % len(frame)
		frame[i] = !frame[i]
		if got, err := wiegand.Decode(frame); err == nil {
			t.Fatalf("%v with bit %d flipped decoded as %v", cred, i, got)
		}
	})
}
