package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestSignInWithToken: an operator token becomes a browser session of its
// own, which signing out revokes while the token lives on; a courier's
// session is kept as it is; a token of another role is a wrong token;
// the per-address limit refuses only that address.
func TestSignInWithToken(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	op, _, err := w.app.Credentials.CreateOperatorToken(sys, "ops")
	must(t, err)
	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	courier, cred, err := w.app.Credentials.CreateCourierSession(carrier, w.allowed.ID, "c1", time.Hour)
	must(t, err)

	ws, err := w.app.Credentials.SignInWithToken(ctx, doorman.RoleOperator, op, "192.0.2.1")
	must(t, err)
	if ws.Token == op || ws.ExpiresAt.IsZero() {
		t.Fatalf("operator web session %+v", ws)
	}
	p, err := w.app.Credentials.Authenticate(ctx, ws.Token)
	must(t, err)
	must(t, w.app.Credentials.RevokeCurrent(doorman.NewContextWithPrincipal(ctx, p)))
	if _, err := w.app.Credentials.Authenticate(ctx, ws.Token); err == nil {
		t.Fatal("the web session survived signing out")
	}
	tokenPrincipal, err := w.app.Credentials.Authenticate(ctx, op)
	must(t, err)
	wantCode(t, "signing out with the operator token itself", w.app.Credentials.RevokeCurrent(doorman.NewContextWithPrincipal(ctx, tokenPrincipal)), doorman.EFORBIDDEN)

	ws, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleCourier, courier, "192.0.2.1")
	must(t, err)
	if ws.Token != courier || !ws.ExpiresAt.Equal(*cred.ExpiresAt) {
		t.Fatalf("courier web session %+v, want the session itself until %v", ws, cred.ExpiresAt)
	}
	_, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleOperator, courier, "192.0.2.1")
	wantCode(t, "a courier session as an operator's", err, doorman.EUNAUTHORIZED)
	_, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleCourier, op, "192.0.2.1")
	wantCode(t, "an operator token as a courier's", err, doorman.EUNAUTHORIZED)
	_, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleManager, op, "192.0.2.1")
	wantCode(t, "a manager signing in with a token", err, doorman.EINVALID)

	for range app.TokenSignInFailures {
		_, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleCourier, "dmc_wrong", "192.0.2.9")
		wantCode(t, "a wrong code", err, doorman.EUNAUTHORIZED)
	}
	_, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleCourier, courier, "192.0.2.9")
	wantCode(t, "the right code past the limit", err, doorman.ETOOMANYREQUEST)
	if d := doorman.ErrorRetryAfter(err); d <= 0 || d > app.TokenSignInWindow {
		t.Fatalf("retry after %v", d)
	}
	_, err = w.app.Credentials.SignInWithToken(ctx, doorman.RoleOperator, op, "192.0.2.9")
	must(t, err) // the operator page counts its own attempts
}

// TestPublicBuilding: anyone reads a transparent building's public facts
// and nothing of a building whose page is off, exactly like a missing one;
// only its managers and operators turn the page on.
func TestPublicBuilding(t *testing.T) {
	w := newWorld(t)
	anon := context.Background()
	sys := doorman.NewContextWithPrincipal(anon, doorman.System())
	_, err := w.app.Transparency.PublicBuilding(anon, w.building.ID)
	wantCode(t, "a page that is off", err, doorman.ENOTFOUND)
	_, err = w.app.Transparency.PublicBuilding(anon, doorman.NewID(doorman.PrefixBuilding))
	wantCode(t, "a missing building", err, doorman.ENOTFOUND)
	stranger := as(doorman.RoleCarrier, w.stranger.ID, w.stranger.ID)
	wantCode(t, "a carrier turns it on", w.app.Transparency.SetTransparent(stranger, w.building.ID, true), doorman.EFORBIDDEN)
	otherManager := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), "")
	wantCode(t, "another building's manager turns it on", w.app.Transparency.SetTransparent(otherManager, w.building.ID, true), doorman.ENOTFOUND)
	wantCode(t, "anyone turns it on", w.app.Transparency.SetTransparent(anon, w.building.ID, true), doorman.EUNAUTHORIZED)

	must(t, w.app.Transparency.SetTransparent(sys, w.building.ID, true))
	b, err := w.app.Transparency.PublicBuilding(anon, w.building.ID)
	must(t, err)
	if b.Name != "B" || len(b.Carriers) != 1 || b.Carriers[0] != "Allowed" || len(b.Doors) != 1 || b.Doors[0] != "Front" {
		t.Fatalf("public building %+v", b)
	}
}
