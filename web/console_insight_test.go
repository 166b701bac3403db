package web_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/password"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/web"
	"golang.org/x/mod/sumdb/note"
)

// insightSite is a running web server over a store with three buildings:
// A and C managed by one manager, B by another; A's log has refusals at
// a door whose name a spreadsheet would take for a formula, and every
// chain has a signed checkpoint.
type insightSite struct {
	srv              *httptest.Server
	app              *app.Services
	a, b, c          *doorman.Building
	doorA            *app.Door
	managerA         string // session tokens
	managerB         string
	courier          string
	entryA, entryC   string // audit entries of A and C
	checkpoint       func()
	verifier         note.Verifier
	managerAIdentity context.Context
}

func newInsightSite(t *testing.T) *insightSite {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	skey, vkey, err := note.GenerateKey(rand.Reader, "doorman-test-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	store.SetAuditSealer(auditlog.Sealer(signer))
	dir := t.TempDir()
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	services := app.New(store, app.Config{Access: access.NewService(store), PasswordParams: cheap,
		AuditCheckpoints: &app.AuditCheckpoints{Dir: dir, Verifier: verifier, VKey: vkey}})
	cp := &auditlog.Checkpointer{Store: store, Signer: signer, Verifier: verifier, Dir: dir}
	s := &insightSite{app: services, verifier: verifier, checkpoint: func() {
		if err := cp.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}}

	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	for _, b := range []**doorman.Building{&s.a, &s.b, &s.c} {
		*b = &doorman.Building{Name: "Building", Address: "1 Road", Timezone: "Europe/Berlin"}
		must(t, services.Buildings.CreateBuilding(sys, *b))
	}
	s.doorA, err = services.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: s.a.ID, Name: "=SUM(1+1)"})
	must(t, err)
	carrier := &doorman.Carrier{Name: "@Parcels"}
	must(t, services.Carriers.CreateCarrier(sys, carrier))
	must(t, services.Buildings.AllowCarrier(sys, s.a.ID, carrier.ID))
	asCarrier := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleCarrier, SubjectID: carrier.ID, CarrierID: carrier.ID})
	_, err = services.Carriers.PutCourier(asCarrier, &doorman.Courier{CarrierID: carrier.ID, ExternalID: "c1", Name: "C"})
	must(t, err)
	s.courier, _, err = services.Credentials.CreateCourierSession(asCarrier, carrier.ID, "c1", time.Hour)
	must(t, err)
	courier, err := services.Credentials.Authenticate(ctx, s.courier)
	must(t, err)
	for range 2 {
		_, err := services.Access.RequestAccess(doorman.NewContextWithPrincipal(ctx, courier),
			doorman.AccessRequest{DoorID: s.doorA.ID, TrackingNumbers: []string{"-1+1"}})
		must(t, err)
	}

	invite := func(b *doorman.Building, email, pw string) {
		inv, err := services.Accounts.CreateInvite(sys, b.ID, email)
		must(t, err)
		_, err = services.Accounts.AcceptInvite(ctx, inv.Token, "M", pw)
		must(t, err)
	}
	invite(s.a, "a@example.com", "the password of A's manager")
	invite(s.c, "a@example.com", "")
	invite(s.b, "b@example.com", "the password of B's manager")
	signIn := func(email, pw string) string {
		signed, err := services.Accounts.SignIn(ctx, email, pw, "192.0.2.1")
		must(t, err)
		return signed.Token
	}
	s.managerA = signIn("a@example.com", "the password of A's manager")
	s.managerB = signIn("b@example.com", "the password of B's manager")
	p, err := services.Credentials.Authenticate(ctx, s.managerA)
	must(t, err)
	s.managerAIdentity = doorman.NewContextWithPrincipal(ctx, p)
	latest := func(b *doorman.Building) string {
		v, err := services.Audit.Recent(s.managerAIdentity, b.ID, 0, 1)
		must(t, err)
		return v.Entries[0].ID
	}
	s.entryA, s.entryC = latest(s.a), latest(s.c)
	s.checkpoint()

	s.srv = httptest.NewServer(web.NewServer(web.Config{App: services}).Handler())
	t.Cleanup(s.srv.Close)
	return s
}

// get fetches path with the session token (none: a visitor), not
// following redirects.
func (s *insightSite) get(t *testing.T, ctx context.Context, token, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", s.srv.URL+path, nil)
	must(t, err)
	if strings.HasSuffix(path, "/events") {
		req.Header.Set("Accept", "text/event-stream") // as EventSource asks
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: token})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	must(t, err)
	return res
}

// paths are every page and file of the area for building b, with an
// audit entry of that building.
func paths(b, entry string) []string {
	base := "/console/buildings/" + b
	return []string{base + "/activity", base + "/activity/events", base + "/audit", base + "/audit?action=access.denied&from=2026-01-01",
		base + "/audit.csv", base + "/checkpoint", base + "/audit/" + entry + "/proof", base + "/charts", base + "/charts?days=30"}
}

// TestInsightPagesAreTheBuildingsManagersOnly: the manager of A gets
// every page of A; the manager of B gets 404 for each of them, as for a
// building that does not exist; a courier is refused and a visitor sent
// to sign in; and no building's page hands out another building's proof.
func TestInsightPagesAreTheBuildingsManagersOnly(t *testing.T) {
	s := newInsightSite(t)
	for _, path := range paths(s.a.ID, s.entryA) {
		ctx, cancel := context.WithCancel(context.Background())
		res := s.get(t, ctx, s.managerA, path)
		if res.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(res.Body)
			t.Errorf("A's manager: %s: %d\n%s", path, res.StatusCode, body)
		}
		cancel()
		res.Body.Close()

		for _, who := range []struct {
			name, token string
			status      int
		}{{"B's manager", s.managerB, http.StatusNotFound}, {"a courier", s.courier, http.StatusForbidden}, {"a visitor", "", http.StatusSeeOther}} {
			res := s.get(t, context.Background(), who.token, path)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != who.status {
				t.Errorf("%s: %s: %d, want %d", who.name, path, res.StatusCode, who.status)
			}
			if strings.Contains(string(body), s.doorA.ID) || strings.Contains(string(body), s.entryA) && who.status != http.StatusSeeOther {
				t.Errorf("%s: %s tells A's IDs", who.name, path)
			}
		}
	}
	// A manager of both A and C still gets no proof of C's entry under A,
	// nor of A's under a building that does not exist.
	for _, path := range []string{
		"/console/buildings/" + s.a.ID + "/audit/" + s.entryC + "/proof",
		"/console/buildings/" + doorman.NewID(doorman.PrefixBuilding) + "/audit/" + s.entryA + "/proof",
		"/console/buildings/" + doorman.PlatformChain + "/checkpoint",
		"/console/buildings/" + doorman.PlatformChain + "/audit",
	} {
		res := s.get(t, context.Background(), s.managerA, path)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
}

// TestInsightProofChecksOut: the proof the console hands out, checked as
// its page explains, leads to the root of the checkpoint it offers.
func TestInsightProofChecksOut(t *testing.T) {
	s := newInsightSite(t)
	res := s.get(t, context.Background(), s.managerA, "/console/buildings/"+s.a.ID+"/checkpoint")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("checkpoint served as %q", ct)
	}
	cp, err := auditlog.Open(string(body), s.a.ID, s.verifier)
	must(t, err)

	res = s.get(t, context.Background(), s.managerA, "/console/buildings/"+s.a.ID+"/audit/"+s.entryA+"/proof")
	var proof app.InclusionProof
	must(t, json.NewDecoder(res.Body).Decode(&proof))
	res.Body.Close()
	if proof.Size != cp.Size {
		t.Fatalf("proof for size %d, checkpoint of %d", proof.Size, cp.Size)
	}
	must(t, auditlog.VerifyInclusion(proof.Index, proof.Size, proof.LeafHash, proof.Hashes, cp.Root))
}

// TestInsightCSVIsSafeInSpreadsheets: the export has a header row and
// every entry, and no cell a spreadsheet would run as a formula.
func TestInsightCSVIsSafeInSpreadsheets(t *testing.T) {
	s := newInsightSite(t)
	res := s.get(t, context.Background(), s.managerA, "/console/buildings/"+s.a.ID+"/audit.csv")
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("served as %q, %q", ct, res.Header.Get("Content-Disposition"))
	}
	records, err := csv.NewReader(res.Body).ReadAll()
	must(t, err)
	if len(records) < 3 || records[0][0] != "at" || records[0][2] != "action" {
		t.Fatalf("export %v", records)
	}
	var door, carrier bool
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
			door = door || cell == "'=SUM(1+1)"
			carrier = carrier || cell == "'@Parcels"
		}
	}
	if !door || !carrier {
		t.Errorf("the door and carrier names are not in the export, quoted: %v", records)
	}

	// The filters apply to the export too.
	res2 := s.get(t, context.Background(), s.managerA, "/console/buildings/"+s.a.ID+"/audit.csv?action=access.denied")
	defer res2.Body.Close()
	records, err = csv.NewReader(res2.Body).ReadAll()
	must(t, err)
	if len(records) != 3 {
		t.Fatalf("denials only: %d rows, want the header and 2", len(records))
	}
	res3 := s.get(t, context.Background(), s.managerA, "/console/buildings/"+s.a.ID+"/audit.csv?from=yesterday")
	res3.Body.Close()
	if res3.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad date: %d", res3.StatusCode)
	}
}

// TestInsightActivityStream: the events stream sends a new entry as
// table rows once it is written, and ends when the session does.
func TestInsightActivityStream(t *testing.T) {
	s := newInsightSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := s.get(t, ctx, s.managerA, "/console/buildings/"+s.a.ID+"/activity/events")
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream served as %q", ct)
	}
	events := make(chan string, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		var ev strings.Builder
		for sc.Scan() {
			if sc.Text() == "" {
				events <- ev.String()
				ev.Reset()
				continue
			}
			ev.WriteString(sc.Text() + "\n")
		}
	}()
	next := func(what string) string {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("the stream ended before %s", what)
				}
				if strings.HasPrefix(ev, "event:") {
					return ev
				}
			case <-ctx.Done():
				t.Fatalf("no %s", what)
			}
		}
	}
	if _, err := s.app.Buildings.SetLockdown(s.managerAIdentity, s.a.ID, s.doorA.ID, true); err != nil {
		t.Fatal(err)
	}
	ev := next("rows event")
	if !strings.HasPrefix(ev, "event: rows\nid: ") || !strings.Contains(ev, "data: ") || !strings.Contains(ev, "Lockdown on") || !strings.Contains(ev, "=SUM(1&#43;1)") {
		t.Fatalf("event %q", ev)
	}
	if strings.Contains(ev, "<script") {
		t.Fatalf("event %q", ev)
	}

	must(t, s.app.Credentials.RevokeCurrent(s.managerAIdentity))
	if ev := next("end event"); !strings.HasPrefix(ev, "event: end") {
		t.Fatalf("after signing out: %q", ev)
	}
}

// TestInsightActivityStreamResumes: a browser reconnecting with the last
// entry it saw (Last-Event-ID) gets what came after it, at once.
func TestInsightActivityStreamResumes(t *testing.T) {
	s := newInsightSite(t)
	v, err := s.app.Audit.Recent(s.managerAIdentity, s.a.ID, 0, 2)
	must(t, err)
	last, before := v.Entries[0], v.Entries[1]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.srv.URL+"/console/buildings/"+s.a.ID+"/activity/events", nil)
	must(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatInt(before.Seq, 10))
	req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: s.managerA})
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if sc.Text() == "id: "+strconv.FormatInt(last.Seq, 10) {
			return
		}
	}
	t.Fatalf("no event for entry %d after %d: %v", last.Seq, before.Seq, sc.Err())
}
