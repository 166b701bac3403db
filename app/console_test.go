package app_test

import (
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestConsoleServicesAuthorise: the services the console's building and
// account pages call refuse other roles, and answer a manager of another
// building as for a missing one; the CSV preview writes nothing.
func TestConsoleServicesAuthorise(t *testing.T) {
	w := newWorld(t)
	stranger := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), "")
	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	csv := []byte("label,floor\n1A,1\n")

	_, err := w.app.Buildings.PreviewUnits(stranger, w.building.ID, csv)
	wantCode(t, "PreviewUnits, another manager", err, doorman.ENOTFOUND)
	_, err = w.app.Buildings.PreviewUnits(carrier, w.building.ID, csv)
	wantCode(t, "PreviewUnits, a carrier", err, doorman.EFORBIDDEN)
	_, err = w.app.Buildings.DoorStates(stranger, w.building.ID)
	wantCode(t, "DoorStates, another manager", err, doorman.ENOTFOUND)
	_, err = w.app.Buildings.DoorStates(carrier, w.building.ID)
	wantCode(t, "DoorStates, a carrier", err, doorman.EFORBIDDEN)

	op := as(doorman.RoleOperator, "", "")
	p, err := w.app.Buildings.PreviewUnits(op, w.building.ID, []byte("label,floor\n1A,1\n1A,2\n"))
	must(t, err)
	if len(p.Rows) != 2 || p.Bad != 1 || p.Rows[1].Error == "" {
		t.Fatalf("preview: %+v", p)
	}
	units, _, err := w.app.Buildings.ListUnits(op, w.building.ID, doorman.Page{})
	must(t, err)
	if len(units) != 0 {
		t.Fatalf("the preview wrote %d units", len(units))
	}
	states, err := w.app.Buildings.DoorStates(op, w.building.ID)
	must(t, err)
	if len(states) != 1 || states[0].Position != "unknown" {
		t.Fatalf("door states: %+v", states)
	}

	for name, ctx := range map[string]struct{ role string }{"operator": {doorman.RoleOperator}, "carrier": {doorman.RoleCarrier}} {
		c := as(ctx.role, w.allowed.ID, w.allowed.ID)
		_, err := w.app.Accounts.Account(c)
		wantCode(t, "Account, "+name, err, doorman.EFORBIDDEN)
		_, err = w.app.Accounts.StartTOTP(c)
		wantCode(t, "StartTOTP, "+name, err, doorman.EFORBIDDEN)
	}
	_, err = w.app.Credentials.RevokeAllSessions(op)
	wantCode(t, "RevokeAllSessions, operator", err, doorman.EFORBIDDEN)
	_, err = w.app.Accounts.FinishSignIn(as("", "", ""), "mgr_x.1.AAAA", "123456", "192.0.2.1")
	wantCode(t, "FinishSignIn with a forged challenge", err, doorman.EUNAUTHORIZED)
}
