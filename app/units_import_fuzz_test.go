package app

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/doorman-dev/doorman"
)

// FuzzParseUnitsCSV feeds arbitrary files to the units import's parser.
// Whatever the file, it must not panic; a file it refuses as a whole gets
// an error with a code; every row it keeps has a line number within the
// file and either an error or a label and floor that pass the unit's
// rules, and no two good rows share a label.
func FuzzParseUnitsCSV(f *testing.F) {
	for _, seed := range []string{
		"label,floor\n1A,1\n1B,1\n2A,2\n",
		"\ufefflabel,floor\r\n\"1A\",\"1\"\r\n",
		"Label , Floor\n1A\n1B,1,extra\n1A,2\n",
		"label,floor\n\"unclosed,1\n",
		"label,floor\n=HYPERLINK(\"http://x\"),1\n<script>,2\n' OR 1=1 --,3\n",
		"label,floor\n" + strings.Repeat("x", 300) + ",1\n",
		"floor,label\n1,1A\n",
		"",
		"label,floor\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parseUnitsCSV(data)
		if err != nil {
			if doorman.ErrorCode(err) == "" || doorman.ErrorCode(err) == doorman.EINTERNAL {
				t.Fatalf("file refused with %v, want a user's error", err)
			}
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		labels := map[string]bool{}
		for _, r := range rows {
			if r.line < 2 || r.line > lines {
				t.Fatalf("row on line %d of a %d-line file", r.line, lines)
			}
			if r.err != "" {
				continue
			}
			u := doorman.Unit{BuildingID: "-", Label: r.label, Floor: r.floor}
			if err := u.Validate(); err != nil || len(r.floor) > 32 || !utf8.ValidString(r.label) {
				t.Fatalf("row %+v kept as good: %v", r, err)
			}
			if labels[r.label] {
				t.Fatalf("label %q kept twice", r.label)
			}
			labels[r.label] = true
		}
	})
}
