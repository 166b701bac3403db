package wire

import (
	"encoding/json"

	"github.com/doorman-dev/doorman"
)

// Message is a JSON message of this protocol.
type Message interface {
	Validate() error
}

// Encode returns the JSON of m after validating it. Returns EINVALID, or
// ETOOLARGE if the JSON is over limit bytes.
func Encode(m Message, limit int) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, doorman.Errorf(doorman.EINTERNAL, "Could not encode the message.")
	} else if len(b) > limit {
		return nil, doorman.Errorf(doorman.ETOOLARGE, "Message of %d bytes is over the %d byte limit.", len(b), limit)
	}
	return b, nil
}

// Decode reads one JSON message of at most limit bytes into m and validates
// it. Unknown fields and trailing data are refused. Returns ETOOLARGE or
// EINVALID; m is only meaningful when the error is nil.
func Decode(data []byte, limit int, m Message) error {
	if len(data) > limit {
		return doorman.Errorf(doorman.ETOOLARGE, "Message of %d bytes is over the %d byte limit.", len(data), limit)
	} else if err := decodeStrict(data, m); err != nil {
		return doorman.Errorf(doorman.EINVALID, "Message is not valid JSON of the expected shape.")
	}
	return m.Validate()
}
