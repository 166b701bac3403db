package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/keyring"
)

// residentWorld is a world with a unit and a resident in its building, a
// second building with a resident of its own, a clock the test moves,
// and services reading that clock.
type residentWorld struct {
	*world
	app    *app.Services
	sys    context.Context
	unit   *doorman.Unit
	ana    *doorman.Resident // in w.building
	other  *doorman.Building
	olga   *doorman.Resident // in other
	mu     sync.Mutex
	now    time.Time
	anaURL string
}

const base = "https://doorman.example"

func newResidentWorld(t *testing.T) *residentWorld {
	t.Helper()
	w := &residentWorld{world: newWorld(t), now: time.Now()}
	w.app = app.New(w.store, app.Config{Access: access.NewService(w.store), PasswordParams: cheap, Now: w.clock})
	w.sys = doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	w.other = &doorman.Building{Name: "Other", Address: "2 Road", Timezone: "UTC"}
	must(t, w.app.Buildings.CreateBuilding(w.sys, w.other))
	var err error
	w.ana, w.unit = w.addResident(t, w.building, "2B", "Ana", "ana@example.org")
	w.olga, _ = w.addResident(t, w.other, "1A", "Olga", "olga@example.org")
	if w.anaURL, err = w.app.Residents.CreateLink(w.sys, "ana@example.org", base); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *residentWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *residentWorld) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

func (w *residentWorld) addResident(t *testing.T, b *doorman.Building, label, name, email string) (*doorman.Resident, *doorman.Unit) {
	t.Helper()
	u := &doorman.Unit{BuildingID: b.ID, Label: label}
	must(t, w.app.Buildings.CreateUnit(w.sys, u))
	r := &doorman.Resident{BuildingID: b.ID, UnitID: u.ID, Name: name, Email: email}
	must(t, w.app.Buildings.CreateResident(w.sys, r))
	return r, u
}

// token is the magic link's token in url.
func token(t *testing.T, url string) string {
	t.Helper()
	_, tok, ok := strings.Cut(url, app.LinkPath)
	if !ok || !strings.HasPrefix(tok, doorman.TokenResidentLink) || !strings.HasPrefix(url, base+"/resident/link") {
		t.Fatalf("magic link %q", url)
	}
	return tok
}

// signIn follows a link and returns the resident's session token and the
// context of their requests.
func (w *residentWorld) signIn(t *testing.T, url string) (string, context.Context) {
	t.Helper()
	signed, err := w.app.Residents.UseLink(context.Background(), token(t, url), "192.0.2.50")
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.app.Credentials.Authenticate(context.Background(), signed.Token)
	if err != nil {
		t.Fatal(err)
	}
	return signed.Token, doorman.NewContextWithPrincipal(context.Background(), p)
}

// TestResidentLinkRules: a magic link signs in the resident it was made
// for, once, within its lifetime; the session is a resident's, for a few
// hours.
func TestResidentLinkRules(t *testing.T) {
	w := newResidentWorld(t)
	anon := context.Background()

	tok, ctx := w.signIn(t, w.anaURL)
	if !strings.HasPrefix(tok, doorman.TokenResident) {
		t.Errorf("session token %q, want prefix %s", tok, doorman.TokenResident)
	}
	p := doorman.PrincipalFromContext(ctx)
	if p.Role != doorman.RoleResident || p.SubjectID != w.ana.ID {
		t.Fatalf("the link signed in %+v, want resident %s", p, w.ana.ID)
	}
	home, err := w.app.Residents.Home(ctx)
	if err != nil || home.Name != "Ana" || home.UnitLabel != "2B" || home.Building.ID != w.building.ID {
		t.Fatalf("home %+v, %v", home, err)
	}
	_, err = w.app.Residents.UseLink(anon, token(t, w.anaURL), "192.0.2.50")
	wantCode(t, "a link used twice", err, doorman.EUNAUTHORIZED)

	url, err := w.app.Residents.CreateLink(w.sys, "ana@example.org", base)
	must(t, err)
	w.advance(doorman.ResidentLinkTTL + time.Second)
	_, err = w.app.Residents.UseLink(anon, token(t, url), "192.0.2.50")
	wantCode(t, "an expired link", err, doorman.EUNAUTHORIZED)

	for name, tok := range map[string]string{
		"a made-up link":          doorman.TokenResidentLink + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"a session token as link": tok,
		"a link without prefix":   strings.TrimPrefix(token(t, url), doorman.TokenResidentLink),
		"an over-long link":       doorman.TokenResidentLink + strings.Repeat("A", 300),
	} {
		_, err = w.app.Residents.UseLink(anon, tok, "192.0.2.50")
		wantCode(t, name, err, doorman.EUNAUTHORIZED)
	}

	// The session lasts hours, not the link's minutes.
	if _, err := w.app.Credentials.Authenticate(anon, tok); err != nil {
		t.Errorf("session after 15 minutes: %v", err)
	}
	w.advance(doorman.ResidentSessionTTL)
	_, err = w.app.Credentials.Authenticate(anon, tok)
	wantCode(t, "an expired resident session", err, doorman.EUNAUTHORIZED)

	_, err = w.app.Residents.CreateLink(as(doorman.RoleOperator, "", ""), "ana@example.org", base)
	wantCode(t, "an operator makes a link itself", err, doorman.EFORBIDDEN)
	_, err = w.app.Residents.CreateLink(w.sys, "nobody@example.org", base)
	wantCode(t, "a link for nobody", err, doorman.ENOTFOUND)
}

// TestResidentCannotActAsAnother: what a resident's session reaches is
// theirs alone; other roles do not reach the resident's page.
func TestResidentCannotActAsAnother(t *testing.T) {
	w := newResidentWorld(t)
	_, ctx := w.signIn(t, w.anaURL)
	if home, err := w.app.Residents.Home(ctx); err != nil || home.Email != "ana@example.org" {
		t.Fatalf("home %+v, %v", home, err)
	}
	for name, c := range map[string]context.Context{
		"anonymous":   context.Background(),
		"a manager":   as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), ""),
		"an operator": as(doorman.RoleOperator, "", ""),
		"a courier":   as(doorman.RoleCourier, doorman.NewID(doorman.PrefixCourier), w.allowed.ID),
	} {
		_, err := w.app.Residents.Home(c)
		if code := doorman.ErrorCode(err); code != doorman.EFORBIDDEN && code != doorman.EUNAUTHORIZED {
			t.Errorf("%s reads a resident page: %v", name, err)
		}
		if err := w.app.Residents.DeleteMyData(c); err == nil {
			t.Errorf("%s deletes a resident's data", name)
		}
	}
	_, _, err := w.app.Outbox.BuildingMail(ctx, w.building.ID, doorman.Page{})
	wantCode(t, "a resident reads the building's mail", err, doorman.EFORBIDDEN)
	_, err = w.app.Residents.OutboxMail(ctx, 10)
	wantCode(t, "a resident reads the outbox", err, doorman.EFORBIDDEN)
	_, _, err = w.app.Audit.List(ctx, app.AuditQuery{}, doorman.Page{})
	wantCode(t, "a resident lists the audit log", err, doorman.EFORBIDDEN)
}

// TestResidentDeleteMyData: deleting one's data deletes the resident,
// their preferences, links and mail, ends their sessions, and leaves an
// audit entry without personal data.
func TestResidentDeleteMyData(t *testing.T) {
	w := newResidentWorld(t)
	tok, ctx := w.signIn(t, w.anaURL)
	must(t, w.app.Residents.SetPreferences(ctx, doorman.ResidentPreferences{NotifyEntry: true}))
	if home, err := w.app.Residents.Home(ctx); err != nil || home.Preferences != (doorman.ResidentPreferences{NotifyEntry: true}) {
		t.Fatalf("preferences after saving: %+v, %v", home, err)
	}
	unused, err := w.app.Residents.CreateLink(w.sys, "ana@example.org", base)
	must(t, err)
	otherTok, _ := w.signIn(t, must2(w.app.Residents.CreateLink(w.sys, "ana@example.org", base)))

	must(t, w.app.Residents.DeleteMyData(ctx))

	for _, tk := range []string{tok, otherTok} {
		_, err := w.app.Credentials.Authenticate(context.Background(), tk)
		wantCode(t, "a deleted resident's session", err, doorman.EUNAUTHORIZED)
	}
	_, err = w.app.Residents.Home(ctx)
	wantCode(t, "a deleted resident's page", err, doorman.EUNAUTHORIZED)
	_, err = w.app.Residents.UseLink(context.Background(), token(t, unused), "192.0.2.50")
	wantCode(t, "a deleted resident's unused link", err, doorman.EUNAUTHORIZED)
	wantCode(t, "deleting twice", w.app.Residents.DeleteMyData(ctx), doorman.EUNAUTHORIZED)

	mail, _, err := w.app.Outbox.BuildingMail(w.sys, w.building.ID, doorman.Page{})
	must(t, err)
	for _, m := range mail {
		if m.Target == "ana@example.org" {
			t.Errorf("mail to the deleted resident kept: %+v", m)
		}
	}
	residents, _, err := w.app.Buildings.ListResidents(w.sys, w.building.ID, doorman.Page{})
	must(t, err)
	if len(residents) != 0 {
		t.Errorf("residents after deletion: %+v", residents)
	}
	entries, _, err := w.app.Audit.List(w.sys, app.AuditQuery{Chain: w.building.ID}, doorman.Page{})
	must(t, err)
	if len(entries) == 0 || entries[0].Action != doorman.ActionResidentDataDeleted || entries[0].Detail != w.ana.ID {
		t.Fatalf("newest entry %+v, want the deletion naming the resident's ID", entries[0])
	}
	for _, e := range entries {
		for _, s := range []string{e.Detail, e.Actor, e.Reason} {
			if strings.Contains(s, "Ana") || strings.Contains(s, "ana@") {
				t.Errorf("audit entry %s keeps personal data: %+v", e.ID, e)
			}
		}
	}
	// The other building's resident is untouched.
	if _, err := w.app.Residents.CreateLink(w.sys, "olga@example.org", base); err != nil {
		t.Errorf("the other resident: %v", err)
	}
}

func must2(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// TestResidentLinkRequests: asking for a link answers the same for any
// email, mails only residents, at most LinkEmailMails times an hour per
// email except to the addresses the resident signed in from (and never
// cancels the links sent), and refuses an address that asks too often.
func TestResidentLinkRequests(t *testing.T) {
	w := newResidentWorld(t)
	anon := context.Background()
	before := queued(t, w)

	wantCode(t, "a malformed email", w.app.Residents.RequestLink(anon, "not an email", "192.0.2.1", base), doorman.EINVALID)
	for _, email := range []string{"nobody@example.org", " ana@example.org ", "ANA@example.org"} {
		if err := w.app.Residents.RequestLink(anon, email, "192.0.2.1", base); err != nil {
			t.Fatalf("request for %q: %v", email, err)
		}
	}
	sent := queued(t, w)[len(before):]
	if len(sent) != 2 || sent[0].Target != "ana@example.org" || sent[0].ResidentID != w.ana.ID {
		t.Fatalf("mail after requests for nobody and Ana twice: %+v", sent)
	}
	first := sent[0].Text[strings.Index(sent[0].Text, base):]
	first = first[:strings.IndexAny(first, " \n")]

	// A flood for Ana's email from many addresses: same answers, one more
	// mail (the hour's third), and her first link still works.
	for i := range 10 {
		if err := w.app.Residents.RequestLink(anon, "ana@example.org", "198.51.100."+string(rune('0'+i)), base); err != nil {
			t.Fatalf("flood request %d: %v", i, err)
		}
	}
	if got := len(queued(t, w)) - len(before); got != app.LinkEmailMails {
		t.Errorf("%d mails to one email in an hour, want %d", got, app.LinkEmailMails)
	}
	if _, err := w.app.Residents.UseLink(anon, token(t, first), "192.0.2.1"); err != nil {
		t.Errorf("the link sent before the flood: %v", err)
	}
	// Past the limit, a new address gets no mail; the address Ana signed
	// in from still does.
	must(t, w.app.Residents.RequestLink(anon, "ana@example.org", "203.0.113.50", base))
	if got := len(queued(t, w)) - len(before); got != app.LinkEmailMails {
		t.Errorf("a new address past the limit: %d mails, want %d", got, app.LinkEmailMails)
	}
	must(t, w.app.Residents.RequestLink(anon, "ana@example.org", "192.0.2.1", base))
	if got := len(queued(t, w)) - len(before); got != app.LinkEmailMails+1 {
		t.Errorf("Ana's own address past the limit: %d mails, want %d", got, app.LinkEmailMails+1)
	}
	w.advance(app.LinkEmailWindow)
	must(t, w.app.Residents.RequestLink(anon, "ana@example.org", "203.0.113.9", base))
	if got := len(queued(t, w)) - len(before); got != app.LinkEmailMails+2 {
		t.Errorf("an hour later: %d mails, want %d", got, app.LinkEmailMails+2)
	}

	// One address asking for many emails is refused, saying when to retry.
	var err error
	for i := 0; i <= app.LinkAddrRequests; i++ {
		err = w.app.Residents.RequestLink(anon, "someone"+string(rune('a'+i))+"@example.org", "203.0.113.7", base)
	}
	wantCode(t, "one address past its limit", err, doorman.ETOOMANYREQUEST)
	if d := doorman.ErrorRetryAfter(err); d <= 0 || d > app.LinkAddrWindow {
		t.Errorf("retry after %v", d)
	}
	if err := w.app.Residents.RequestLink(anon, "ana@example.org", "203.0.113.8", base); err != nil {
		t.Errorf("another address meanwhile: %v", err)
	}
}

func queued(t *testing.T, w *residentWorld) []*doorman.Message {
	t.Helper()
	m, err := w.app.Residents.OutboxMail(w.sys, 500)
	must(t, err)
	return m
}

// TestResidentMailLog: a building's managers and operators read its mail
// log with the sign-in links hidden; another building's manager does not.
func TestResidentMailLog(t *testing.T) {
	w := newResidentWorld(t)
	inv, err := w.app.Accounts.CreateInvite(w.sys, w.building.ID, "m@example.org")
	must(t, err)
	m, err := w.app.Accounts.AcceptInvite(context.Background(), inv.Token, "M", "a long password here")
	must(t, err)
	manager := as(doorman.RoleManager, m.ID, "")
	mail, _, err := w.app.Outbox.BuildingMail(manager, w.building.ID, doorman.Page{})
	must(t, err)
	if len(mail) != 1 || !strings.Contains(mail[0].Text, "[sign-in link hidden]") || strings.Contains(mail[0].Text, doorman.TokenResidentLink) {
		t.Fatalf("the manager's mail log: %+v", mail)
	}
	_, _, err = w.app.Outbox.BuildingMail(manager, w.other.ID, doorman.Page{})
	wantCode(t, "a manager reads another building's mail", err, doorman.ENOTFOUND)
	_, err = w.app.Residents.OutboxMail(manager, 10)
	wantCode(t, "a manager reads the outbox whole", err, doorman.EFORBIDDEN)
}

// TestResidentEntriesAndProofs: a resident sees their building's entries
// by carrier and time, never the courier, and gets inclusion proofs and
// the checkpoint of their own building only.
func TestResidentEntriesAndProofs(t *testing.T) {
	w := newResidentWorld(t)
	ctx := context.Background()
	key, err := keyring.LoadOrCreateAuditKey(filepath.Join(t.TempDir(), "audit.key"))
	must(t, err)
	w.store.SetAuditSealer(auditlog.Sealer(key.Signer))
	courier := doorman.NewID(doorman.PrefixCourier)
	granted := &doorman.AuditEntry{Chain: w.building.ID, BuildingID: w.building.ID, At: time.Now().UTC(), Action: doorman.ActionAccessGranted,
		Actor: "courier:" + courier, DoorID: w.door.ID, CarrierID: w.allowed.ID, CourierID: courier, Detail: "Courier Alice Martin"}
	must(t, w.store.AppendAudit(ctx, granted))
	elsewhere := &doorman.AuditEntry{Chain: w.other.ID, BuildingID: w.other.ID, At: time.Now().UTC(), Action: doorman.ActionAccessGranted,
		Actor: "courier:" + courier, CarrierID: w.allowed.ID, CourierID: courier}
	must(t, w.store.AppendAudit(ctx, elsewhere))
	_, anaCtx := w.signIn(t, w.anaURL)

	home, err := w.app.Residents.Home(anaCtx)
	must(t, err)
	if len(home.Entries) != 1 {
		t.Fatalf("entries %+v, want the one access at Ana's building", home.Entries)
	}
	e := home.Entries[0]
	if e.ID != granted.ID || e.Carrier != "Allowed" || e.Door != "Front" || e.ProofReady {
		t.Errorf("entry %+v", e)
	}
	_, err = w.app.Audit.InclusionProof(anaCtx, granted.ID, 0)
	wantCode(t, "a proof before any checkpoint", err, doorman.ENOTFOUND)

	cp := &auditlog.Checkpointer{Store: w.store, Signer: key.Signer, Verifier: key.Verifier, Dir: t.TempDir()}
	must(t, cp.Checkpoint(ctx))
	home, err = w.app.Residents.Home(anaCtx)
	must(t, err)
	if !home.Entries[0].ProofReady || home.Checkpoint == nil {
		t.Fatalf("after a checkpoint: %+v, %+v", home.Entries[0], home.Checkpoint)
	}
	proof, err := w.app.Audit.InclusionProof(anaCtx, granted.ID, 0)
	if err != nil || proof.EntryID != granted.ID || proof.Size != uint64(home.Checkpoint.Size) {
		t.Fatalf("proof %+v, %v", proof, err)
	}
	if _, err := w.app.Audit.Checkpoint(anaCtx, w.building.ID); err != nil {
		t.Errorf("own building's checkpoint: %v", err)
	}
	_, err = w.app.Audit.InclusionProof(anaCtx, elsewhere.ID, 0)
	wantCode(t, "a proof of another building's entry", err, doorman.ENOTFOUND)
	_, err = w.app.Audit.Checkpoint(anaCtx, w.other.ID)
	wantCode(t, "another building's checkpoint", err, doorman.ENOTFOUND)
	_, err = w.app.Audit.ConsistencyProof(anaCtx, w.other.ID, 1, 0)
	wantCode(t, "another building's consistency proof", err, doorman.ENOTFOUND)

	// Once Ana deleted her data, her session gets no proof either.
	must(t, w.app.Residents.DeleteMyData(anaCtx))
	_, err = w.app.Audit.InclusionProof(anaCtx, granted.ID, 0)
	wantCode(t, "a deleted resident's proof", err, doorman.ENOTFOUND)
}

// TestResidentRemovedByManager: a resident the building's manager removes
// is gone the same way as one who deletes their own data: their sessions
// end and their unused links no longer sign anyone in.
func TestResidentRemovedByManager(t *testing.T) {
	w := newResidentWorld(t)
	tok, _ := w.signIn(t, w.anaURL)
	unused, err := w.app.Residents.CreateLink(w.sys, "ana@example.org", base)
	must(t, err)

	must(t, w.app.Buildings.DeleteResident(w.sys, w.building.ID, w.ana.ID))

	_, err = w.app.Credentials.Authenticate(context.Background(), tok)
	wantCode(t, "a removed resident's session", err, doorman.EUNAUTHORIZED)
	_, err = w.app.Residents.UseLink(context.Background(), token(t, unused), "192.0.2.50")
	wantCode(t, "a removed resident's unused link", err, doorman.EUNAUTHORIZED)
}
