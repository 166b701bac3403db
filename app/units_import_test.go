package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestParseUnitsCSV checks the CSV rules without a store or HTTP: which
// files fail as a whole, which rows fail and on which line.
func TestParseUnitsCSV(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		fileErr  bool  // the file fails as a whole
		badLines []int // rows that fail, by line
		labels   []string
	}{
		{name: "empty", body: "", fileErr: true},
		{name: "header only", body: "label,floor\n", fileErr: true},
		{name: "wrong header", body: "unit,level\n1A,1\n", fileErr: true},
		{name: "bad rows", body: "label,floor\n1A,1\n,2\n1A,3\n2A,2,extra\n" + strings.Repeat("X", 40) + ",4\n3A,3\n4B," + strings.Repeat("9", 33) + "\n",
			badLines: []int{3, 4, 5, 6, 8}, labels: []string{"1A", "3A"}},
		{name: "bare quote", body: "label,floor\n1A,1\n1\"B,1\n2A,2\n", badLines: []int{3}, labels: []string{"1A", "2A"}},
		{name: "BOM, CRLF, quoted comma, header case", body: "\ufeffLabel, FLOOR\r\n1A,1\r\n\"2, rear\",2\r\n", labels: []string{"1A", "2, rear"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := parseUnitsCSV([]byte(tc.body))
			if tc.fileErr {
				if doorman.ErrorCode(err) != doorman.EINVALID {
					t.Fatalf("want the file refused, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var bad []int
			var labels []string
			for _, r := range rows {
				if r.err != "" {
					bad = append(bad, r.line)
				} else {
					labels = append(labels, r.label)
				}
			}
			if fmt.Sprint(bad) != fmt.Sprint(tc.badLines) || fmt.Sprint(labels) != fmt.Sprint(tc.labels) {
				t.Fatalf("bad lines %v and labels %q; want %v and %q", bad, labels, tc.badLines, tc.labels)
			}
		})
	}
	many := "label,floor\n" + strings.Repeat("1A,1\n", MaxImportRows+1)
	if _, err := parseUnitsCSV([]byte(many)); doorman.ErrorCode(err) != doorman.ETOOLARGE {
		t.Fatalf("%d rows: %v", MaxImportRows+1, err)
	}
}
