package http

import (
	"context"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/pquerna/otp/totp"
)

// TestManagerLoginTOTP: once a manager turned sign-in codes on, POST
// /v1/sessions refuses the password alone (totp_required) and a wrong or
// used code (totp_invalid), and takes a current code once.
func TestManagerLoginTOTP(t *testing.T) {
	f := newFixture(t)
	me, err := f.server.app.Credentials.Authenticate(context.Background(), f.tokens[pManagerA])
	if err != nil {
		t.Fatal(err)
	}
	ctx := doorman.NewContextWithPrincipal(context.Background(), me)
	setup, err := f.server.app.Accounts.StartTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCode(setup.Secret, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := f.server.app.Accounts.ConfirmTOTP(ctx, code()); err != nil {
		t.Fatal(err)
	}
	login := func(c string) *response {
		return f.do(request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": f.managerAEmail, "password": testPassword, "totp_code": c}})
	}
	if p := login("").Problem(t); p.Status != 401 || p.Reason != app.ReasonTOTPRequired {
		t.Fatalf("password alone: %+v", p)
	}
	if p := login("000000").Problem(t); p.Status != 401 || p.Reason != app.ReasonTOTPInvalid {
		t.Fatalf("wrong code: %+v", p)
	}
	if p := login(code()).Problem(t); p.Status != 401 || p.Reason != app.ReasonTOTPInvalid {
		t.Fatalf("the code used to confirm: %+v", p)
	}
	f.clock.Advance(30e9)
	s := decode[Session](t, f.must(201, request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": f.managerAEmail, "password": testPassword, "totp_code": code()}}))
	f.must(200, request{Method: "GET", Path: "/v1/me", Token: s.Token})
	if p := login(code()).Problem(t); p.Status != 401 || p.Reason != app.ReasonTOTPInvalid {
		t.Fatalf("a code used twice: %+v", p)
	}
}
