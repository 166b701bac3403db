package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// TestConsoleNoticePeriod: the carriers page shows an allowed carrier
// pending its residents' notices, and sets the notice period in days; bad
// input is refused with the typed value kept.
func TestConsoleNoticePeriod(t *testing.T) {
	c := newConsole(t)
	page := "/console/buildings/" + c.b1.ID + "/carriers"
	w := c.do("GET", page, c.m1, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "Pending notice") || !strings.Contains(body, "waiting for the notices to 1 resident") ||
		!strings.Contains(body, `name="notice_days" inputmode="decimal" value="7"`) {
		t.Fatalf("carriers page: %d\n%s", w.Code, body)
	}
	post := page[:len(page)-len("carriers")] + "notice-period"
	for _, bad := range []string{"-1", "seven", "400", "NaN"} {
		w = c.do("POST", post, c.m1, url.Values{"notice_days": {bad}})
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "from 0 to 365") ||
			!strings.Contains(w.Body.String(), `value="`+bad+`"`) {
			t.Fatalf("notice period %q: %d\n%s", bad, w.Code, w.Body)
		}
	}
	if w = c.do("POST", post, c.m1, url.Values{"notice_days": {"0.5"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	_, period, err := c.app.Notices.CarrierNotices(sys, c.b1.ID, time.Now())
	must(t, err)
	if period != 12*time.Hour {
		t.Fatalf("period %v", period)
	}
	// The other building's manager can neither see nor set it.
	if w = c.do("POST", post, c.m2, url.Values{"notice_days": {"0"}}); w.Code != http.StatusNotFound {
		t.Fatalf("another manager: %d", w.Code)
	}
}
