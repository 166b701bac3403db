package http

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

// Optional is a field of a PATCH body that can be absent (leave as is),
// null (clear) or a value (set). A plain pointer cannot tell absent from
// null.
type Optional[T any] struct {
	// Set is true when the field was present, null or not.
	Set bool
	// Value is nil for null.
	Value *T
}

// UnmarshalJSON implements json.Unmarshaler; it runs only for fields that
// are present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

// Schema implements huma.SchemaProvider: the schema of T, inlined and
// nullable, so that huma still validates a given value fully.
func (o Optional[T]) Schema(r huma.Registry) *huma.Schema {
	s := *r.Schema(reflect.TypeFor[T](), false, "")
	s.Nullable = true
	return &s
}

// Ptr returns a pointer-to-pointer for the store's update structs: nil when
// the field was absent, a pointer to nil when it was null.
func (o Optional[T]) Ptr() **T {
	if !o.Set {
		return nil
	}
	v := o.Value
	return &v
}
