package app_test

import (
	"context"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestFlagDuplicateConnection: only Doorman itself flags a device
// connected twice, only with the device's own key, and the flag lands in
// the device's building's log.
func TestFlagDuplicateConnection(t *testing.T) {
	w := newWorld(t)
	d, _ := enrolledDevice(t, w)
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	other, _ := nkeys.CreateUser()
	otherPub, _ := other.PublicKey()

	wantCode(t, "a device flags itself", w.app.Devices.FlagDuplicateConnection(
		doorman.NewContextWithPrincipal(context.Background(), app.DevicePrincipal(w.door.ID, d.ID)), d.ID, d.PublicKey, "x"), doorman.EFORBIDDEN)
	wantCode(t, "an operator flags", w.app.Devices.FlagDuplicateConnection(as(doorman.RoleOperator, "op", ""), d.ID, d.PublicKey, "x"), doorman.EFORBIDDEN)
	wantCode(t, "another key", w.app.Devices.FlagDuplicateConnection(sys, d.ID, otherPub, "x"), doorman.EINVALID)
	wantCode(t, "unknown device", w.app.Devices.FlagDuplicateConnection(sys, doorman.NewID(doorman.PrefixDevice), d.PublicKey, "x"), doorman.ENOTFOUND)
	must(t, w.app.Devices.FlagDuplicateConnection(sys, d.ID, d.PublicKey, "2 connections"))

	all, _, err := w.store.ListAudit(context.Background(), doorman.AuditFilter{Chain: w.building.ID}, doorman.Page{Limit: 100})
	must(t, err)
	n := 0
	for _, e := range all {
		if e.Action == doorman.ActionDeviceDuplicateConnection && e.DoorID == w.door.ID && e.Detail == "2 connections" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d duplicate-connection entries in the building's log, want 1", n)
	}
}
