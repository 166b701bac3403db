package sqlstore

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/doorman-dev/doorman"
)

// Times are stored as Unix microseconds in UTC.

// micros returns t as stored.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns a stored time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// exact returns t at the precision the store keeps, in UTC, so that what a
// method hands back equals what a later read returns.
func exact(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullMicros returns a nullable stored time.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr returns a nullable stored time as a pointer.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// exactPtr is exact for an optional time.
func exactPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	e := exact(*t)
	return &e
}

// nullString stores "" as NULL, for optional references.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullFloat stores a nil float as NULL.
func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// floatPtr returns a nullable float as a pointer.
func floatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	f := v.Float64
	return &f
}

// encodeHours returns delivery hours as stored JSON text, or NULL.
func encodeHours(h *doorman.WeeklyHours) (any, error) {
	if h == nil {
		return nil, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// decodeHours reads stored delivery hours.
func decodeHours(v sql.NullString) (*doorman.WeeklyHours, error) {
	if !v.Valid || v.String == "" {
		return nil, nil
	}
	var h doorman.WeeklyHours
	if err := json.Unmarshal([]byte(v.String), &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// encodeIDs stores a list of IDs as a JSON array.
func encodeIDs(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// decodeIDs reads a stored list of IDs; an empty list is nil.
func decodeIDs(s string) ([]string, error) {
	var ids []string
	if s == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// nullTime is t in microseconds, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
