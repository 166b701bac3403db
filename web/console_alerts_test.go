package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestConsoleAlerts: the building's manager reads and saves its alert and
// retention settings; bad numbers show the form again with the error and
// change nothing; another building's manager neither sees nor sets them,
// a courier cannot, and a cross-site post is refused.
func TestConsoleAlerts(t *testing.T) {
	s := newCourierSite(t)
	elm := s.manager(s.elm, "elm@example.org")
	oak := s.manager(s.oak, "oak@example.org")
	path := "/console/buildings/" + s.elm.ID + "/alerts"
	page := s.do(request{method: "GET", path: path, session: elm})
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, `id="on_door_forced" name="on_door_forced" value="1"`) ||
		!strings.Contains(body, `value="90"`) || !strings.Contains(body, `aria-current="page">Alerts`) {
		t.Fatalf("alerts page: %d\n%s", page.Code, body)
	}
	save := url.Values{"on_door_held_open": {"1"}, "on_door_offline": {"1"}, "on_offline_grant_misuse": {"1"}, "offline_minutes": {"15"}, "retention_days": {"30"}}
	if rec := s.do(request{method: "GET", path: path, session: oak}); rec.Code != http.StatusNotFound {
		t.Fatalf("another building's manager sees the page: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: path, session: oak, form: save}); rec.Code != http.StatusNotFound {
		t.Fatalf("another building's manager saves: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: path, session: s.courier["Allowed"], form: save}); rec.Code != http.StatusForbidden {
		t.Fatalf("a courier saves: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: path, session: elm, form: save, crossSite: true}); rec.Code != http.StatusForbidden {
		t.Fatalf("a cross-site post: %d", rec.Code)
	}
	bad := url.Values{"on_door_held_open": {"1"}, "offline_minutes": {"soon"}, "retention_days": {"30"}}
	if rec := s.do(request{method: "POST", path: path, session: elm, form: bad}); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(rec.Body.String(), `value="soon"`) || !strings.Contains(rec.Body.String(), "whole number") {
		t.Fatalf("bad minutes: %d\n%s", rec.Code, rec.Body)
	}
	bad.Set("offline_minutes", "5")
	bad.Set("retention_days", "0")
	if rec := s.do(request{method: "POST", path: path, session: elm, form: bad}); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(rec.Body.String(), "Retention days must be between") {
		t.Fatalf("zero days: %d\n%s", rec.Code, rec.Body)
	}
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	if st, err := s.app.Alerts.Settings(sys, s.elm.ID); err != nil || st.RetentionDays != 90 || len(st.Disabled) != 0 {
		t.Fatalf("refused posts changed the settings: %+v, %v", st, err)
	}
	if rec := s.do(request{method: "POST", path: path, session: elm, form: save}); rec.Code != http.StatusSeeOther {
		t.Fatalf("saving: %d\n%s", rec.Code, rec.Body)
	}
	st, err := s.app.Alerts.Settings(sys, s.elm.ID)
	must(t, err)
	if st.OfflineMinutes != 15 || st.RetentionDays != 30 || strings.Join(st.Disabled, ",") != "audit_chain_broken,door_forced,repeated_denials" {
		t.Fatalf("saved: %+v", st)
	}
	if st, _ := s.app.Alerts.Settings(sys, s.oak.ID); st.RetentionDays != 90 {
		t.Fatalf("another building's settings changed: %+v", st)
	}
}
