package web

import (
	"net/http"
	"strings"

	"github.com/doorman-dev/doorman"
)

// consoleWebhookRoutes registers the building's webhook endpoints page.
func (s *Server) consoleWebhookRoutes() {
	m := func(h http.HandlerFunc) http.HandlerFunc { return s.need(h, doorman.RoleManager, doorman.RoleOperator) }
	s.mux.HandleFunc("GET /console/buildings/{id}/webhooks", m(s.webhooksPage))
	s.mux.HandleFunc("POST /console/buildings/{id}/webhooks", m(s.webhookCreate))
	s.mux.HandleFunc("POST /console/buildings/{id}/webhooks/{endpoint}/rotate", m(s.webhookRotate))
	s.mux.HandleFunc("POST /console/buildings/{id}/webhooks/{endpoint}/enabled", m(s.webhookEnabled))
	s.mux.HandleFunc("POST /console/buildings/{id}/webhooks/{endpoint}/delete", m(s.webhookDelete))
	addNotices(map[string]string{
		"wh-deleted":  "The webhook endpoint is deleted.",
		"wh-enabled":  "The webhook endpoint is on: events are sent to it again.",
		"wh-disabled": "The webhook endpoint is off: no events are sent to it.",
	})
}

// recentDeliveries is how many delivery attempts the page shows per
// endpoint.
const recentDeliveries = 10

// webhookRow is one endpoint on the page with its recent attempts.
type webhookRow struct {
	*doorman.WebhookEndpoint
	Deliveries []*doorman.WebhookDelivery
}

// eventChoice is one event type checkbox of the form.
type eventChoice struct {
	Type    string
	Checked bool
}

// webhooksPage is the data of console/webhooks.html.
type webhooksPage struct {
	Building  *doorman.Building
	Endpoints []webhookRow
	// The form, as typed when it was refused.
	URL, Description string
	Events           []eventChoice
	Error            *formError
}

// webhookSecretPage is the data of console/webhook_secret.html.
type webhookSecretPage struct {
	Building *doorman.Building
	Endpoint *doorman.WebhookEndpoint
	Secret   string
	Rotated  bool
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request) {
	s.renderWebhooks(w, r, http.StatusOK, nil)
}

// renderWebhooks renders the page; form, when not nil, is the creation
// form as typed, shown again with its error.
func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, form *webhooksPage) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.app.Webhooks.ListEndpoints(ctx, doorman.WebhookFilter{BuildingID: b.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &webhooksPage{Building: b}
	for _, e := range list {
		d, err := s.app.Webhooks.Deliveries(ctx, e.ID, recentDeliveries)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Endpoints = append(p.Endpoints, webhookRow{WebhookEndpoint: e, Deliveries: d})
	}
	checked := map[string]bool{}
	if form != nil {
		p.URL, p.Description, p.Error = form.URL, form.Description, form.Error
		for _, c := range form.Events {
			checked[c.Type] = c.Checked
		}
	} else {
		for _, t := range doorman.WebhookEventTypes {
			checked[t] = true
		}
	}
	for _, t := range doorman.WebhookEventTypes {
		p.Events = append(p.Events, eventChoice{Type: t, Checked: checked[t]})
	}
	s.render(w, r, status, "console/webhooks.html", p)
}

// webhookCreate makes an endpoint and shows its secret, once.
func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form := &webhooksPage{URL: strings.TrimSpace(r.PostFormValue("url")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	var types []string
	for _, t := range doorman.WebhookEventTypes {
		on := r.PostFormValue("event."+t) == "1"
		form.Events = append(form.Events, eventChoice{Type: t, Checked: on})
		if on {
			types = append(types, t)
		}
	}
	e := &doorman.WebhookEndpoint{BuildingID: r.PathValue("id"), URL: form.URL, Description: form.Description, EventTypes: types}
	secret, err := s.app.Webhooks.CreateEndpoint(ctx, e)
	if status, ferr, ok := s.refusal(r, err); ok {
		form.Error = ferr
		s.renderWebhooks(w, r, status, form)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.app.Buildings.Building(ctx, e.BuildingID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console/webhook_secret.html", webhookSecretPage{Building: b, Endpoint: e, Secret: secret})
}

// buildingEndpoint returns the path's endpoint if it is the path
// building's (and the caller may manage it): anything else is not found.
func (s *Server) buildingEndpoint(w http.ResponseWriter, r *http.Request) (*doorman.WebhookEndpoint, bool) {
	e, err := s.app.Webhooks.Endpoint(r.Context(), r.PathValue("endpoint"))
	if err == nil && e.BuildingID != r.PathValue("id") {
		err = doorman.Errorf(doorman.ENOTFOUND, "Webhook endpoint not found.")
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return e, true
}

// webhookRotate gives the endpoint a new secret and shows it, once.
func (s *Server) webhookRotate(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.buildingEndpoint(w, r); !ok {
		return
	}
	ctx := r.Context()
	e, secret, err := s.app.Webhooks.RotateSecret(ctx, r.PathValue("endpoint"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.app.Buildings.Building(ctx, e.BuildingID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console/webhook_secret.html", webhookSecretPage{Building: b, Endpoint: e, Secret: secret, Rotated: true})
}

func (s *Server) webhookEnabled(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.buildingEndpoint(w, r); !ok {
		return
	}
	on := r.PostFormValue("on") == "1"
	if _, err := s.app.Webhooks.UpdateEndpoint(r.Context(), r.PathValue("endpoint"), doorman.WebhookEndpointUpdate{Enabled: &on}); err != nil {
		s.fail(w, r, err)
		return
	}
	notice := "wh-disabled"
	if on {
		notice = "wh-enabled"
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "webhooks"), notice)
}

func (s *Server) webhookDelete(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.buildingEndpoint(w, r); !ok {
		return
	}
	if err := s.app.Webhooks.DeleteEndpoint(r.Context(), r.PathValue("endpoint")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "webhooks"), "wh-deleted")
}
