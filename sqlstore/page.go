package sqlstore

import (
	"encoding/base64"

	"github.com/doorman-dev/doorman"
)

// Cursors are opaque to callers: the base64url of the last ID of a page.
// Lists are ordered by ID, which is creation order.

// cursor returns the cursor that continues after id.
func cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// pageOf decodes p for a list of objects whose IDs have the given prefix.
// It returns the ID to continue after ("" for the first page) and the
// clamped limit, or EINVALID for a cursor this list did not hand out.
func pageOf(p doorman.Page, prefix string) (after string, limit int, err error) {
	p = p.Normalize()
	if p.After == "" {
		return "", p.Limit, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.After)
	if err != nil || !doorman.HasPrefix(string(b), prefix) {
		return "", 0, doorman.Errorf(doorman.EINVALID, "Invalid page cursor.")
	}
	return string(b), p.Limit, nil
}

// trim cuts a page fetched with limit+1 rows down to limit and returns the
// cursor of the next page, or "" if this was the last.
func trim[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, cursor(id(items[limit-1]))
}
