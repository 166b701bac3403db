package email_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/email"
	"github.com/doorman-dev/doorman/internal/mailpit"
	"github.com/doorman-dev/doorman/sqlite"
)

const from = "Doorman <doorman@example.org>"

func newSender(smtp string) (*email.Sender, error) {
	return email.New(email.Config{URL: "smtp://user:secret@" + smtp, From: from, BaseURL: "https://doorman.example", Timeout: 5 * time.Second})
}

func sender(t *testing.T, smtp string, lang string) *email.Sender {
	t.Helper()
	s, err := email.New(email.Config{URL: "smtp://user:secret@" + smtp, From: from, BaseURL: "https://doorman.example",
		Timeout: 5 * time.Second,
		Unsubscribe: func(ctx context.Context, m *doorman.Message) (string, error) {
			if doorman.PreferenceOf(m.Kind) == "" {
				return "", nil
			}
			return "tok-" + m.ResidentID, nil
		},
		Language: func(ctx context.Context, residentID string) (string, error) { return lang, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls mailpit until it holds n messages.
func waitFor(t *testing.T, mp *mailpit.Server, n int) []mailpit.Summary {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := mp.Messages(context.Background())
		if err == nil && len(list) >= n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit holds %d messages, want %d (%v)", len(list), n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSendOverSMTP: an email reaches a real SMTP server with its text
// and HTML parts, HTML in its data escaped, the Message-ID made from the
// message's ID, and a one-click List-Unsubscribe (RFC 8058).
func TestSendOverSMTP(t *testing.T) {
	mp := mailpit.Start(t)
	s := sender(t, mp.SMTP, "en")
	m := &doorman.Message{ID: doorman.NewID(doorman.PrefixMessage), Channel: doorman.ChannelEmail, Kind: "delivery.notice",
		ResidentID: doorman.NewID(doorman.PrefixResident), Target: "ana@example.org",
		Subject: "Parcel <b>delivered</b>", Text: "Left at <script>alert(1)</script> & the lobby.\n\nSecond paragraph."}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	list := waitFor(t, mp, 1)
	got, err := mp.Message(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID != m.ID+"@example.org" || got.Subject != "Parcel <b>delivered</b>" {
		t.Errorf("Message-ID %q, subject %q", got.MessageID, got.Subject)
	}
	if strings.Contains(got.HTML, "<script>") || !strings.Contains(got.HTML, "&lt;script&gt;") || !strings.Contains(got.HTML, "&amp; the lobby") {
		t.Errorf("HTML not escaped: %s", got.HTML)
	}
	if !strings.Contains(got.Text, "<script>alert(1)</script>") || !strings.Contains(got.Text, "https://doorman.example/unsubscribe?t=tok-"+m.ResidentID) {
		t.Errorf("text %q", got.Text)
	}
	h, err := mp.Headers(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u := h["List-Unsubscribe"]; len(u) != 1 || u[0] != "<https://doorman.example/unsubscribe?t=tok-"+m.ResidentID+">" {
		t.Errorf("List-Unsubscribe %q", u)
	}
	if p := h["List-Unsubscribe-Post"]; len(p) != 1 || p[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", p)
	}

	// A sign-in link: no unsubscribe, the resident's language.
	es := sender(t, mp.SMTP, "es-MX")
	data, _ := json.Marshal(app.SignInLinkData{Name: "Ana <i>", Building: "Maple", URL: "https://doorman.example/resident/link?t=dml_x", Minutes: 15})
	link := &doorman.Message{ID: doorman.NewID(doorman.PrefixMessage), Channel: doorman.ChannelEmail, Kind: doorman.KindResidentSignInLink,
		ResidentID: m.ResidentID, Target: "ana@example.org", Subject: "Your sign-in link for Maple", Payload: data}
	if err := es.Send(context.Background(), link); err != nil {
		t.Fatal(err)
	}
	list = waitFor(t, mp, 2)
	got, err = mp.Message(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Su enlace de acceso a Maple" || !strings.Contains(got.Text, "Hola, Ana <i>:") ||
		!strings.Contains(got.HTML, "Ana &lt;i&gt;") || !strings.Contains(got.HTML, `href="https://doorman.example/resident/link?t=dml_x"`) {
		t.Errorf("Spanish sign-in link: %q\n%s\n%s", got.Subject, got.Text, got.HTML)
	}
	if h, _ := mp.Headers(context.Background(), list[0].ID); len(h["List-Unsubscribe"]) != 0 {
		t.Errorf("a sign-in link has List-Unsubscribe: %q", h["List-Unsubscribe"])
	}
}

// TestRender: every kind with templates has them in English and Spanish,
// and a language without templates falls back to English.
func TestRender(t *testing.T) {
	if langs := email.Languages(doorman.KindResidentSignInLink); len(langs) != 2 {
		t.Fatalf("sign-in link languages %v", langs)
	}
	data, _ := json.Marshal(app.SignInLinkData{Name: "A", Building: "B", URL: "https://x/", Minutes: 15})
	r, err := email.Render(&doorman.Message{Kind: doorman.KindResidentSignInLink, Payload: data}, "de", "")
	if err != nil || r.Subject != "Your sign-in link for B" {
		t.Fatalf("%+v %v", r, err)
	}
	_, err = email.Render(&doorman.Message{Kind: doorman.KindResidentSignInLink, Payload: []byte("[1]")}, "en", "")
	if doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("bad data: %v", err)
	}
	if _, err := email.New(email.Config{URL: "http://x", From: from}); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("an http URL: %v", err)
	}
	if _, err := email.New(email.Config{URL: "smtp://x:25", From: "nobody"}); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("a bad sender: %v", err)
	}
}

// TestSMTPDownThenUp: with the SMTP server down, the outbox keeps the
// message queued and retries it; once the server is up, the retry
// delivers it, once.
func TestSMTPDownThenUp(t *testing.T) {
	addr := mailpit.FreeAddr(t)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var mu sync.Mutex
	now := time.Now().Add(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	o := app.NewOutbox(store, clock, nil)
	o.RegisterSender(sender(t, addr, "en"))
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	m := &doorman.Message{Channel: doorman.ChannelEmail, Target: "ana@example.org", Kind: "test.down", Subject: "Hi", Text: "Body"}
	if err := store.EnqueueMessage(sys, m); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Deliver(sys); n != 1 || err != nil {
		t.Fatalf("deliver: %d %v", n, err)
	}
	got, _ := store.Message(sys, m.ID)
	if got.Status != doorman.MessageQueued || got.Attempts != 1 || got.LastError == "" {
		t.Fatalf("with the server down: %+v", got)
	}
	mp := mailpit.StartOn(t, addr)
	mu.Lock()
	now = got.NextAttemptAt
	mu.Unlock()
	if n, err := o.Deliver(sys); n != 1 || err != nil {
		t.Fatalf("deliver: %d %v", n, err)
	}
	got, _ = store.Message(sys, m.ID)
	if got.Status != doorman.MessageSent || got.Attempts != 2 {
		t.Fatalf("with the server up: %+v", got)
	}
	if list := waitFor(t, mp, 1); len(list) != 1 || list[0].MessageID != m.ID+"@example.org" {
		t.Fatalf("caught %+v", list)
	}
}
