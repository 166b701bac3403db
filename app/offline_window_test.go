package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestOfflineWindows: a door's window is its building's offline delivery
// days; only Doorman itself asks, and an unknown door is ENOTFOUND.
func TestOfflineWindows(t *testing.T) {
	world := newWorld(t)
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	three := 3
	_, err := world.app.Buildings.UpdateBuilding(sys, world.building.ID, app.BuildingChange{OfflineDeliveryDays: &three})
	must(t, err)
	d := world.door
	w := app.NewOfflineWindows(world.store)
	if got, err := w.Window(sys, d.ID); err != nil || got != 72*time.Hour {
		t.Fatalf("Window = %s, %v; want 72h", got, err)
	}
	if _, err := w.Window(sys, doorman.NewID(doorman.PrefixDoor)); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("unknown door: %v", err)
	}
	if _, err := w.Window(as(doorman.RoleCourier, "cou_x", world.allowed.ID), d.ID); doorman.ErrorCode(err) != doorman.EFORBIDDEN {
		t.Fatalf("a courier asked: %v", err)
	}
}
