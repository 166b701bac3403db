package doorman_test

import (
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestNamesArePlainText: names, labels and addresses with a line break, a
// NUL, an escape or bytes that are not UTF-8 (a form field posted as
// %D0, a CSV import in another encoding) are refused with EINVALID before
// they reach a store (PostgreSQL would refuse invalid UTF-8 with an
// internal error), a mail subject or a CSV cell.
func TestNamesArePlainText(t *testing.T) {
	for _, bad := range []string{"Front\nBcc: x@example.com", "a\x00b", "\x1b[31mred", "\xd0", "tab\there"} {
		for name, v := range map[string]interface{ Validate() error }{
			"building": &doorman.Building{Name: bad, Address: "1 Road", Timezone: "UTC"},
			"address":  &doorman.Building{Name: "B", Address: bad, Timezone: "UTC"},
			"unit":     &doorman.Unit{BuildingID: "b", Label: bad},
			"floor":    &doorman.Unit{BuildingID: "b", Label: "1A", Floor: bad},
			"resident": &doorman.Resident{UnitID: "u", Name: bad, Email: "a@example.com"},
			"carrier":  &doorman.Carrier{Name: bad},
			"courier":  &doorman.Courier{CarrierID: "c", ExternalID: "x", Name: bad, Status: doorman.CourierActive},
			"door":     &doorman.Door{BuildingID: "b", Name: bad, PulseMillis: doorman.DefaultPulseMillis},
		} {
			if err := v.Validate(); doorman.ErrorCode(err) != doorman.EINVALID {
				t.Errorf("%s %q: %v, want EINVALID", name, bad, err)
			}
		}
	}
	ok := &doorman.Door{BuildingID: "b", Name: "Entrée B — côté cour", PulseMillis: doorman.DefaultPulseMillis}
	if err := ok.Validate(); err != nil {
		t.Errorf("a name in plain text refused: %v", err)
	}
}
