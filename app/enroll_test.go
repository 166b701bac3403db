package app

import (
	"regexp"
	"strings"
	"testing"
)

var codeFormat = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

func TestEnrollmentCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := NewEnrollmentCode()
		if !codeFormat.MatchString(c) || seen[c] {
			t.Fatalf("code %q malformed or repeated", c)
		}
		seen[c] = true
		canonical, ok := NormalizeEnrollmentCode(c)
		if !ok || canonical != strings.ReplaceAll(c, "-", "") {
			t.Fatalf("normalize(%q) = %q, %v", c, canonical, ok)
		}
	}
	for typed, want := range map[string]string{
		"7kq2-m9xd-4hvt":      "7KQ2M9XD4HVT",
		" 7KQ2 M9XD\t4HVT ":   "7KQ2M9XD4HVT",
		"OIL0-0000-0000":      "011000000000",
		"7KQ2M9XD4HVT":        "7KQ2M9XD4HVT",
		"7KQ2-M9XD-4HVU":      "", // U is not in the alphabet
		"7KQ2-M9XD-4HV":       "", // too short
		"7KQ2-M9XD-4HVTT":     "", // too long
		"7KQ2-M9XD-4HV\u0422": "", // Cyrillic Te
		"7KQ2_M9XD_4HVT":      "",
	} {
		got, ok := NormalizeEnrollmentCode(typed)
		if (want == "") == ok || got != want {
			t.Errorf("normalize(%q) = %q, %v; want %q", typed, got, ok, want)
		}
	}
}
