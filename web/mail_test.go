package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestOneClickUnsubscribe: the List-Unsubscribe URL turns the kind's
// notices off on a POST with no session (RFC 8058); a GET only asks; a
// forged token or one for another resident does nothing.
func TestOneClickUnsubscribe(t *testing.T) {
	s := newResidentSite(t, "")
	res := s.mapleRes
	must(t, s.store.SetResidentPreferences(s.sys, res.ID, doorman.ResidentPreferences{NotifyDelivery: true, NotifyEntry: true}))
	tok, err := s.app.Outbox.UnsubscribeToken(s.sys, &doorman.Message{ResidentID: res.ID, Kind: "delivery.notice"})
	must(t, err)
	other, err := s.app.Outbox.UnsubscribeToken(s.sys, &doorman.Message{ResidentID: s.birchRes.ID, Kind: "delivery.notice"})
	must(t, err)
	prefs := func() doorman.ResidentPreferences {
		p, err := s.store.ResidentPreferences(s.sys, res.ID)
		must(t, err)
		return p
	}

	if w := s.do("GET", "/unsubscribe?t="+url.QueryEscape(tok), "", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="unsubscribe"`) || !prefs().NotifyDelivery {
		t.Fatalf("GET: %d, %+v", w.Code, prefs())
	}
	body, _, _ := strings.Cut(tok, ".")
	_, otherSig, _ := strings.Cut(other, ".")
	for _, bad := range []string{"", "garbage", body + "." + otherSig, tok + "A"} {
		if w := s.do("POST", "/unsubscribe?t="+url.QueryEscape(bad), "", url.Values{"List-Unsubscribe": {"One-Click"}}); w.Code != http.StatusUnauthorized {
			t.Errorf("forged token %q: %d", bad, w.Code)
		}
	}
	if !prefs().NotifyDelivery {
		t.Fatal("a forged token unsubscribed")
	}
	w := s.do("POST", "/unsubscribe?t="+url.QueryEscape(tok), "", url.Values{"List-Unsubscribe": {"One-Click"}})
	if p := prefs(); w.Code != http.StatusOK || p.NotifyDelivery || !p.NotifyEntry || !strings.Contains(w.Body.String(), "delivery notices") {
		t.Fatalf("one-click: %d %+v", w.Code, p)
	}
	if p, _ := s.store.ResidentPreferences(s.sys, s.birchRes.ID); !p.NotifyDelivery {
		t.Fatal("another resident was unsubscribed")
	}
}

// TestConsoleMailRetry: the mail page shows a dead message's tries and
// error with a retry button; retrying queues it again; another
// building's manager cannot.
func TestConsoleMailRetry(t *testing.T) {
	s := newResidentSite(t, "")
	m := &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: s.maple.ID, Target: "x@example.org", Kind: "test.dead", Subject: "Dead one"}
	must(t, s.store.EnqueueMessage(s.sys, m))
	must(t, s.store.MarkMessageFailed(s.sys, m.ID, "550 <no such user>", nil))
	page := "/console/buildings/" + s.maple.ID + "/mail"
	w := s.do("GET", page, s.manager, nil)
	if b := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(b, "Dead") || !strings.Contains(b, "550 &lt;no such user&gt;") ||
		!strings.Contains(b, page+"/"+m.ID+"/retry") {
		t.Fatalf("mail page: %d %s", w.Code, b)
	}
	if w := s.do("POST", "/console/buildings/"+s.birch.ID+"/mail/"+m.ID+"/retry", s.manager, url.Values{}); w.Code != http.StatusNotFound {
		t.Errorf("retry through another building: %d", w.Code)
	}
	if w := s.do("POST", page+"/"+m.ID+"/retry", "", url.Values{}); w.Code == http.StatusSeeOther {
		t.Errorf("retry without a session: %d", w.Code)
	}
	if w := s.do("POST", page+"/"+m.ID+"/retry", s.manager, url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("retry: %d %s", w.Code, w.Body)
	}
	got, err := s.store.Message(s.sys, m.ID)
	must(t, err)
	if got.Status != doorman.MessageQueued || got.Attempts != 0 {
		t.Fatalf("after retry %+v", got)
	}
}
