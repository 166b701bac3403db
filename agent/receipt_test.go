package agent

import (
	"errors"
	"testing"
)

// TestReadReceipt: a device drops an event only on the control plane's
// receipt that it is recorded, or its refusal for good; JetStream's own
// errors, another stream's acknowledgement (nothing records from it),
// garbage and an empty answer keep it queued.
func TestReadReceipt(t *testing.T) {
	for _, tc := range []struct {
		reply   string
		done    bool // recorded: nil
		refused bool
	}{
		{`{"stream":"doorman"}`, true, false},
		{`{"stream":"DOORMAN_EVENTS","seq":12}`, true, false}, // an earlier control plane's stream
		{`{"stream":"SOMETHING_ELSE","seq":1}`, false, false},
		{`{"error":{"code":400,"description":"not the subject's event"}}`, false, true},
		{`{"error":{"code":503,"description":"busy"}}`, false, false},
		{`{"error":{"code":400,"err_code":10058,"description":"stream name in subject does not match"}}`, false, false},
		{`{}`, false, false},
		{``, false, false},
		{`garbage`, false, false},
	} {
		err := readReceipt([]byte(tc.reply))
		if (err == nil) != tc.done || errors.Is(err, errRefused) != tc.refused {
			t.Errorf("receipt %s: %v; want recorded %v, refused %v", tc.reply, err, tc.done, tc.refused)
		}
	}
}
