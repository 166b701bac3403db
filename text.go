package doorman

import (
	"unicode"
	"unicode/utf8"
)

// PlainText reports whether s is valid UTF-8 without control characters
// (no line breaks, tabs, escapes or NULs): what a name, a label or an
// address may hold. Invalid UTF-8 would be refused by PostgreSQL and shown
// as replacement characters elsewhere; a line break in a name ends up in
// mail subjects, CSV cells and log lines.
func PlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
