package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testManagerAccount checks a manager's TOTP factor, that each TOTP step
// is accepted once even by concurrent sign-ins, and revoking every
// session of a manager at once.
func testManagerAccount(t *testing.T, open Opener) {
	f := newFixture(t, open)
	now := time.Now()
	token, hash := doorman.NewToken(doorman.TokenInvite)
	must(t, f.s.CreateInvite(f.ctx, &doorman.ManagerInvite{BuildingID: f.building.ID, Email: "totp@example.com",
		TokenHash: hash, ExpiresAt: now.Add(time.Hour)}))
	m, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "Tia", "argon2-hash", now)
	must(t, err)

	got, err := f.s.Manager(f.ctx, m.ID)
	must(t, err)
	equal(t, "Manager", got, m)
	_, err = f.s.Manager(f.ctx, doorman.NewID(doorman.PrefixManager))
	wantCode(t, err, doorman.ENOTFOUND)

	totp, err := f.s.ManagerTOTP(f.ctx, m.ID)
	must(t, err)
	if totp.Enabled() || totp.Secret != "" || totp.LastStep != 0 {
		t.Fatalf("a new manager has a TOTP factor: %+v", totp)
	}
	_, err = f.s.ManagerTOTP(f.ctx, doorman.NewID(doorman.PrefixManager))
	wantCode(t, err, doorman.ENOTFOUND)
	wantCode(t, f.s.SetManagerTOTP(f.ctx, doorman.NewID(doorman.PrefixManager), &doorman.ManagerTOTP{Secret: "X"}), doorman.ENOTFOUND)

	// Pending, then enabled.
	must(t, f.s.SetManagerTOTP(f.ctx, m.ID, &doorman.ManagerTOTP{Secret: "JBSWY3DPEHPK3PXP"}))
	totp, err = f.s.ManagerTOTP(f.ctx, m.ID)
	must(t, err)
	if totp.Enabled() || totp.Secret != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("pending factor read back as %+v", totp)
	}
	enabled := now.Truncate(time.Microsecond).UTC()
	must(t, f.s.SetManagerTOTP(f.ctx, m.ID, &doorman.ManagerTOTP{Secret: totp.Secret, EnabledAt: &enabled, LastStep: 7}))
	totp, err = f.s.ManagerTOTP(f.ctx, m.ID)
	must(t, err)
	if !totp.Enabled() || !totp.EnabledAt.Equal(enabled) || totp.LastStep != 7 {
		t.Fatalf("enabled factor read back as %+v", totp)
	}

	// Each step once, later steps only, one winner among concurrent uses.
	for _, c := range []struct {
		step int64
		want bool
	}{{7, false}, {6, false}, {8, true}, {8, false}} {
		ok, err := f.s.UseManagerTOTPStep(f.ctx, m.ID, c.step)
		must(t, err)
		if ok != c.want {
			t.Errorf("UseManagerTOTPStep(%d) = %v, want %v", c.step, ok, c.want)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := f.s.UseManagerTOTPStep(f.ctx, m.ID, 9)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				wins++
			}
		}()
	}
	wg.Wait()
	equal(t, "concurrent uses of one step that won", wins, 1)
	_, err = f.s.UseManagerTOTPStep(f.ctx, doorman.NewID(doorman.PrefixManager), 1)
	wantCode(t, err, doorman.ENOTFOUND)

	// Removing it.
	must(t, f.s.SetManagerTOTP(f.ctx, m.ID, &doorman.ManagerTOTP{}))
	totp, err = f.s.ManagerTOTP(f.ctx, m.ID)
	must(t, err)
	if totp.Enabled() || totp.Secret != "" {
		t.Fatalf("removed factor read back as %+v", totp)
	}

	// Revoking every session of one manager leaves others' alone.
	session := func(subject string) string {
		tok, hash := doorman.NewToken(doorman.TokenManager)
		exp := now.Add(time.Hour)
		must(t, f.s.CreateCredential(f.ctx, &doorman.Credential{Role: doorman.RoleManager, SubjectID: subject,
			Name: "session", Prefix: tok[:8], TokenHash: hash, ExpiresAt: &exp}))
		return hash
	}
	mine := []string{session(m.ID), session(m.ID)}
	other := session(doorman.NewID(doorman.PrefixManager))
	n, err := f.s.RevokeCredentials(f.ctx, doorman.RoleManager, m.ID)
	must(t, err)
	equal(t, "sessions revoked", n, 2)
	for _, h := range mine {
		_, err := f.s.CredentialByTokenHash(f.ctx, h, now)
		wantCode(t, err, doorman.ENOTFOUND)
	}
	_, err = f.s.CredentialByTokenHash(f.ctx, other, now)
	must(t, err)
	n, err = f.s.RevokeCredentials(f.ctx, doorman.RoleManager, m.ID)
	must(t, err)
	equal(t, "sessions revoked again", n, 0)
}
