package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func testCredentials(t *testing.T, open Opener) {
	f := newFixture(t, open)
	now := time.Now()
	newKey := func(role, subject, carrier string, expires *time.Time) (*doorman.Credential, string) {
		t.Helper()
		token, hash := doorman.NewToken(doorman.TokenCarrier)
		c := &doorman.Credential{Role: role, SubjectID: subject, CarrierID: carrier, Name: "key", Prefix: token[:8],
			TokenHash: hash, ExpiresAt: expires}
		must(t, f.s.CreateCredential(f.ctx, c))
		return c, token
	}
	key, token := newKey(doorman.RoleCarrier, f.carrier.ID, f.carrier.ID, nil)
	if !doorman.HasPrefix(key.ID, doorman.PrefixCredential) || key.CreatedAt.IsZero() {
		t.Fatalf("CreateCredential set %+v", key)
	}
	got, err := f.s.CredentialByTokenHash(f.ctx, doorman.HashToken(token), now)
	must(t, err)
	equal(t, "CredentialByTokenHash", got, key)
	_, err = f.s.CredentialByTokenHash(f.ctx, doorman.HashToken(token+"x"), now)
	wantCode(t, err, doorman.ENOTFOUND)

	// Expiry is checked against the time given.
	exp := now.Add(time.Hour)
	session, sessionToken := newKey(doorman.RoleCourier, f.courier.ID, f.carrier.ID, &exp)
	_, err = f.s.CredentialByTokenHash(f.ctx, doorman.HashToken(sessionToken), exp.Add(-time.Second))
	must(t, err)
	_, err = f.s.CredentialByTokenHash(f.ctx, doorman.HashToken(sessionToken), exp)
	wantCode(t, err, doorman.ENOTFOUND)

	// Invalid credentials.
	for name, c := range map[string]*doorman.Credential{
		"role":       {Role: "admin", TokenHash: doorman.HashToken("x")},
		"hash":       {Role: doorman.RoleOperator, TokenHash: "plain-token"},
		"subject":    {Role: doorman.RoleManager, TokenHash: doorman.HashToken("y")},
		"carrier":    {Role: doorman.RoleCarrier, SubjectID: f.carrier.ID, TokenHash: doorman.HashToken("z")},
		"reused tok": {Role: doorman.RoleOperator, TokenHash: key.TokenHash},
	} {
		err := f.s.CreateCredential(f.ctx, c)
		if code := doorman.ErrorCode(err); code != doorman.EINVALID && !(name == "reused tok" && code == doorman.ECONFLICT) {
			t.Errorf("CreateCredential(%s): %v", name, err)
		}
	}

	// Revocation is scoped to the role and subject it names.
	wantCode(t, f.s.RevokeCredential(f.ctx, doorman.RoleCarrier, doorman.NewID(doorman.PrefixCarrier), key.ID), doorman.ENOTFOUND)
	wantCode(t, f.s.RevokeCredential(f.ctx, doorman.RoleCourier, f.carrier.ID, key.ID), doorman.ENOTFOUND)
	wantCode(t, f.s.RevokeCredential(f.ctx, doorman.RoleCarrier, f.carrier.ID, doorman.NewID(doorman.PrefixCredential)), doorman.ENOTFOUND)
	_, err = f.s.CredentialByTokenHash(f.ctx, doorman.HashToken(token), now)
	must(t, err)

	second, _ := newKey(doorman.RoleCarrier, f.carrier.ID, f.carrier.ID, nil)
	n, err := f.s.CountCredentials(f.ctx, doorman.RoleCarrier)
	must(t, err)
	equal(t, "active carrier keys", n, 2)
	must(t, f.s.RevokeCredential(f.ctx, doorman.RoleCarrier, f.carrier.ID, key.ID))
	must(t, f.s.RevokeCredential(f.ctx, doorman.RoleCarrier, f.carrier.ID, key.ID)) // twice is fine
	_, err = f.s.CredentialByTokenHash(f.ctx, doorman.HashToken(token), now)
	wantCode(t, err, doorman.ENOTFOUND)
	n, err = f.s.CountCredentials(f.ctx, doorman.RoleCarrier)
	must(t, err)
	equal(t, "active carrier keys after revoking one", n, 1)

	list, _, err := f.s.ListCredentials(f.ctx, doorman.RoleCarrier, f.carrier.ID, doorman.Page{})
	must(t, err)
	if len(list) != 2 || list[0].ID != key.ID || list[0].RevokedAt == nil || list[1].ID != second.ID {
		t.Fatalf("ListCredentials: %+v", list)
	}
	list, _, err = f.s.ListCredentials(f.ctx, doorman.RoleCourier, f.courier.ID, doorman.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != session.ID {
		t.Fatalf("ListCredentials(courier): %+v", list)
	}

	// Carrier keys are audited on the platform chain; sessions are not.
	var created, revoked int
	for _, e := range f.audit(t, doorman.AuditFilter{Chain: doorman.PlatformChain}) {
		switch e.Action {
		case doorman.ActionAPIKeyCreated:
			created++
		case doorman.ActionAPIKeyRevoked:
			revoked++
			if e.Detail != key.ID || e.CarrierID != f.carrier.ID {
				t.Fatalf("revocation entry: %+v", e)
			}
		}
	}
	if created != 2 || revoked != 1 {
		t.Fatalf("platform audit has %d key creations and %d revocations, want 2 and 1", created, revoked)
	}
}

func testInvites(t *testing.T, open Opener) {
	newInvite := func(t *testing.T, f *fixture, email string, expires time.Time) string {
		t.Helper()
		token, hash := doorman.NewToken(doorman.TokenInvite)
		inv := &doorman.ManagerInvite{BuildingID: f.building.ID, Email: email, TokenHash: hash, ExpiresAt: expires}
		must(t, f.s.CreateInvite(f.ctx, inv))
		if !doorman.HasPrefix(inv.ID, doorman.PrefixInvite) || inv.CreatedAt.IsZero() {
			t.Fatalf("CreateInvite set %+v", inv)
		}
		return token
	}

	t.Run("SingleUse", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		token := newInvite(t, f, "Mia@Example.com", now.Add(time.Hour))
		m, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "Mia", "argon2-hash", now)
		must(t, err)
		if !doorman.HasPrefix(m.ID, doorman.PrefixManager) || m.Email != "Mia@Example.com" || m.PasswordHash != "argon2-hash" {
			t.Fatalf("new manager: %+v", m)
		}
		_, err = f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "Eve", "other", now)
		wantCode(t, err, doorman.ENOTFOUND)

		got, err := f.s.ManagerByEmail(f.ctx, "mia@example.COM")
		must(t, err)
		equal(t, "ManagerByEmail", got, m)
		ids, err := f.s.ManagerBuildingIDs(f.ctx, m.ID)
		must(t, err)
		equal(t, "ManagerBuildingIDs", ids, []string{f.building.ID})
		_, err = f.s.ManagerByEmail(f.ctx, "nobody@example.com")
		wantCode(t, err, doorman.ENOTFOUND)

		e := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		if e[0].Action != doorman.ActionManagerJoined || e[1].Action != doorman.ActionManagerInvited {
			t.Fatalf("invite audit: %q, %q", e[0].Action, e[1].Action)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		token := newInvite(t, f, "mia@example.com", now.Add(time.Hour))
		_, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "Mia", "hash", now.Add(time.Hour))
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = f.s.AcceptInvite(f.ctx, doorman.HashToken("dmi_unknown"), "Mia", "hash", now)
		wantCode(t, err, doorman.ENOTFOUND)
		wantCode(t, f.s.CreateInvite(f.ctx, &doorman.ManagerInvite{BuildingID: doorman.NewID(doorman.PrefixBuilding),
			Email: "a@example.com", TokenHash: doorman.HashToken("t")}), doorman.ENOTFOUND)
		wantCode(t, f.s.CreateInvite(f.ctx, &doorman.ManagerInvite{BuildingID: f.building.ID,
			Email: "not-an-email", TokenHash: doorman.HashToken("t")}), doorman.EINVALID)
	})

	t.Run("ExistingAccount", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		m, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(newInvite(t, f, "mia@example.com", now.Add(time.Hour))), "Mia", "hash", now)
		must(t, err)
		second := f.newBuilding(t, "Oak Yard")
		token, hash := doorman.NewToken(doorman.TokenInvite)
		must(t, f.s.CreateInvite(f.ctx, &doorman.ManagerInvite{BuildingID: second.ID, Email: "MIA@example.com", TokenHash: hash}))

		// Giving a password for an existing account is refused and leaves
		// the invitation usable.
		_, err = f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "Mallory", "new-hash", now)
		wantCode(t, err, doorman.ECONFLICT)
		again, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "", "", now)
		must(t, err)
		equal(t, "attached manager", again, m)
		ids, err := f.s.ManagerBuildingIDs(f.ctx, m.ID)
		must(t, err)
		if len(ids) != 2 {
			t.Fatalf("manager of %d buildings, want 2", len(ids))
		}

		// A new account needs a name and a password.
		token3 := newInvite(t, f, "new@example.com", now.Add(time.Hour))
		_, err = f.s.AcceptInvite(f.ctx, doorman.HashToken(token3), "New", "", now)
		wantCode(t, err, doorman.EINVALID)
		_, err = f.s.AcceptInvite(f.ctx, doorman.HashToken(token3), "New", "hash", now)
		must(t, err)
	})

	t.Run("ConcurrentAccepts", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		token := newInvite(t, f, "mia@example.com", now.Add(time.Hour))
		const n = 8
		var wg sync.WaitGroup
		codes := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "Mia", "hash", now)
				codes[i] = doorman.ErrorCode(err)
			}()
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case "":
				won++
			case doorman.ENOTFOUND:
			default:
				t.Fatalf("concurrent accept failed with %q", c)
			}
		}
		if won != 1 {
			t.Fatalf("%d concurrent accepts of one invitation succeeded, want 1", won)
		}
	})
}

func testIdempotency(t *testing.T, open Opener) {
	t.Run("Lifecycle", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		r, err := s.BeginIdempotent(ctx, "car_a", "key-1", "hash-1")
		must(t, err)
		if r != nil {
			t.Fatalf("fresh claim returned %+v, want nil", r)
		}
		r, err = s.BeginIdempotent(ctx, "car_a", "key-1", "hash-1")
		must(t, err)
		if r == nil || r.Done {
			t.Fatalf("second begin while running: %+v", r)
		}
		_, err = s.BeginIdempotent(ctx, "car_a", "key-1", "hash-2")
		wantCode(t, err, doorman.EPRECONDITION)

		// The same key in another scope is another key.
		r, err = s.BeginIdempotent(ctx, "car_b", "key-1", "hash-2")
		must(t, err)
		if r != nil {
			t.Fatal("key of another scope was not fresh")
		}

		must(t, s.FinishIdempotent(ctx, "car_a", "key-1", 201, []byte(`{"ok":true}`)))
		r, err = s.BeginIdempotent(ctx, "car_a", "key-1", "hash-1")
		must(t, err)
		if r == nil || !r.Done || r.Status != 201 || string(r.Body) != `{"ok":true}` || r.RequestHash != "hash-1" {
			t.Fatalf("replayed response: %+v", r)
		}
		wantCode(t, s.FinishIdempotent(ctx, "car_a", "key-1", 500, nil), doorman.ECONFLICT)
		wantCode(t, s.FinishIdempotent(ctx, "car_a", "key-404", 200, nil), doorman.ENOTFOUND)

		// Status 0 releases a claim.
		must(t, s.FinishIdempotent(ctx, "car_b", "key-1", 0, nil))
		r, err = s.BeginIdempotent(ctx, "car_b", "key-1", "hash-3")
		must(t, err)
		if r != nil {
			t.Fatal("released key was not fresh")
		}
		_, err = s.BeginIdempotent(ctx, "car_b", "", "hash")
		wantCode(t, err, doorman.EINVALID)
	})

	t.Run("ScopesApart", func(t *testing.T) {
		// A key is a key within its scope only: another scope using the
		// same key, even for a request with the same hash, neither gets the
		// stored answer nor can settle or release the claim.
		s, _ := open(t)
		ctx := operator()
		const key, hash = "key-1", "same-hash"
		secret := []byte(`{"token":"dmk_secret"}`)
		r, err := s.BeginIdempotent(ctx, "carrier:car_a POST /x", key, hash)
		must(t, err)
		if r != nil {
			t.Fatalf("fresh claim returned %+v", r)
		}
		wantCode(t, s.FinishIdempotent(ctx, "carrier:car_b POST /x", key, 201, []byte(`{}`)), doorman.ENOTFOUND)
		wantCode(t, s.FinishIdempotent(ctx, "carrier:car_b POST /x", key, 0, nil), doorman.ENOTFOUND)
		r, err = s.BeginIdempotent(ctx, "carrier:car_a POST /x", key, hash)
		must(t, err)
		if r == nil || r.Done {
			t.Fatalf("claim after another scope's finish: %+v, want still running", r)
		}
		must(t, s.FinishIdempotent(ctx, "carrier:car_a POST /x", key, 201, secret))

		for _, scope := range []string{"carrier:car_b POST /x", "carrier:car_a POST /y", "carrier:car_a POST", "carrier:car_a POST /x "} {
			r, err := s.BeginIdempotent(ctx, scope, key, hash)
			must(t, err)
			if r != nil {
				t.Fatalf("scope %q got the answer stored under another scope: %+v", scope, r)
			}
		}
		// Scope and key are kept apart, not joined: moving a word from
		// one to the other names another claim.
		r, err = s.BeginIdempotent(ctx, "carrier:car_a POST", "/x "+key, hash)
		must(t, err)
		if r != nil {
			t.Fatalf("scope and key joined differently got %+v", r)
		}
		r, err = s.BeginIdempotent(ctx, "carrier:car_a POST /x", key, hash)
		must(t, err)
		if r == nil || !r.Done || string(r.Body) != string(secret) {
			t.Fatalf("own answer: %+v", r)
		}
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		const n = 12
		var wg sync.WaitGroup
		fresh := make([]bool, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.BeginIdempotent(ctx, "car_a", "same-key", "hash")
				if err != nil {
					t.Errorf("BeginIdempotent: %v", err)
				}
				fresh[i] = err == nil && r == nil
			}()
		}
		wg.Wait()
		claims := 0
		for _, f := range fresh {
			if f {
				claims++
			}
		}
		if claims != 1 {
			t.Fatalf("%d concurrent requests claimed one key, want 1", claims)
		}
	})
}
