package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// operatorRoutes registers the operator's pages: sign-in with an operator
// token, carriers and their API keys, buildings and inviting their
// managers, the platform audit; and the page where an invited manager
// accepts the invitation.
func (s *Server) operatorRoutes() {
	s.mux.HandleFunc("GET /operator/signin", s.operatorSignInPage)
	s.mux.HandleFunc("POST /operator/signin", s.operatorSignIn)
	s.mux.HandleFunc("GET /operator", s.need(s.operatorHome, doorman.RoleOperator))
	s.mux.HandleFunc("POST /operator/carriers", s.need(s.operatorCreateCarrier, doorman.RoleOperator))
	s.mux.HandleFunc("GET /operator/carriers/{id}", s.need(s.operatorCarrier, doorman.RoleOperator))
	s.mux.HandleFunc("POST /operator/carriers/{id}/keys", s.need(s.operatorCreateKey, doorman.RoleOperator))
	s.mux.HandleFunc("POST /operator/carriers/{id}/keys/{key}/revoke", s.need(s.operatorRevokeKey, doorman.RoleOperator))
	s.mux.HandleFunc("POST /operator/buildings", s.need(s.operatorCreateBuilding, doorman.RoleOperator))
	s.mux.HandleFunc("GET /operator/buildings/{id}", s.need(s.operatorBuilding, doorman.RoleOperator))
	s.mux.HandleFunc("POST /operator/buildings/{id}/invites", s.need(s.operatorInvite, doorman.RoleOperator))
	s.mux.HandleFunc("GET /operator/audit", s.need(s.operatorAudit, doorman.RoleOperator))
	s.mux.HandleFunc("GET /console/invite", s.invitePage)
	s.mux.HandleFunc("POST /console/invite", s.acceptInvite)
	addNotices(map[string]string{
		"operator-signedin": "You are signed in as the operator.",
		"carrier-created":   "Carrier created.",
		"building-created":  "Building created.",
		"key-revoked":       "API key revoked.",
		"invite-accepted":   "Invitation accepted. Sign in with your email and password.",
		"invite-joined":     "Invitation accepted: the building is added to your account. Sign in.",
	})
}

// operatorSignInData is the data of operator/signin.html.
type operatorSignInData struct {
	Next  string
	Error string
}

func (s *Server) operatorSignInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "operator/signin.html", operatorSignInData{Next: r.URL.Query().Get("next")})
}

// operatorSignIn exchanges a pasted operator token for a browser session
// (the token itself is never kept in the browser), with the credentials
// service's per-address guessing limit.
func (s *Server) operatorSignIn(w http.ResponseWriter, r *http.Request) {
	token, next := r.PostFormValue("token"), r.PostFormValue("next")
	ws, err := s.app.Credentials.SignInWithToken(r.Context(), doorman.RoleOperator, token, s.clientAddr(r))
	if err != nil {
		status, msg := s.errorStatus(r, err)
		if status == http.StatusUnauthorized {
			msg = "That operator token is not valid, or has been revoked."
		}
		if d := doorman.ErrorRetryAfter(err); d > 0 {
			w.Header().Set("Retry-After", retryAfter(d))
		}
		s.render(w, r, status, "operator/signin.html", operatorSignInData{Next: next, Error: msg})
		return
	}
	setSession(w, ws.Token, ws.ExpiresAt)
	redirect(w, r, localPath(next, "/operator"), "operator-signedin")
}

// operatorHomeData is the data of operator/home.html.
type operatorHomeData struct {
	Carriers  []*doorman.Carrier
	Buildings []*doorman.Building
	// The forms, as typed, when one comes back with an error.
	CarrierName   string
	CarrierError  string
	Building      doorman.Building
	BuildingError string
}

// operatorHome lists carriers and buildings, with forms to create them.
func (s *Server) operatorHome(w http.ResponseWriter, r *http.Request) {
	s.renderOperatorHome(w, r, http.StatusOK, operatorHomeData{})
}

func (s *Server) renderOperatorHome(w http.ResponseWriter, r *http.Request, status int, data operatorHomeData) {
	var err error
	if data.Carriers, _, err = s.app.Carriers.ListCarriers(r.Context(), doorman.Page{Limit: doorman.MaxPageLimit}); err != nil {
		s.fail(w, r, err)
		return
	}
	if data.Buildings, _, err = s.app.Buildings.ListBuildings(r.Context(), doorman.Page{Limit: doorman.MaxPageLimit}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "operator/home.html", data)
}

func (s *Server) operatorCreateCarrier(w http.ResponseWriter, r *http.Request) {
	c := &doorman.Carrier{Name: strings.TrimSpace(r.PostFormValue("name"))}
	if err := s.app.Carriers.CreateCarrier(r.Context(), c); err != nil {
		status, msg := s.errorStatus(r, err)
		s.renderOperatorHome(w, r, status, operatorHomeData{CarrierName: r.PostFormValue("name"), CarrierError: msg})
		return
	}
	redirect(w, r, "/operator/carriers/"+url.PathEscape(c.ID), "carrier-created")
}

func (s *Server) operatorCreateBuilding(w http.ResponseWriter, r *http.Request) {
	b := &doorman.Building{
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Address:  strings.TrimSpace(r.PostFormValue("address")),
		Timezone: strings.TrimSpace(r.PostFormValue("timezone")),
	}
	if err := s.app.Buildings.CreateBuilding(r.Context(), b); err != nil {
		status, msg := s.errorStatus(r, err)
		s.renderOperatorHome(w, r, status, operatorHomeData{Building: *b, BuildingError: msg})
		return
	}
	redirect(w, r, "/operator/buildings/"+url.PathEscape(b.ID), "building-created")
}

// operatorCarrierData is the data of operator/carrier.html.
type operatorCarrierData struct {
	Carrier *doorman.Carrier
	Keys    []*doorman.Credential
	// NewKey is the API key just created: shown on this answer only.
	NewKey     string
	NewKeyName string
	KeyName    string
	Error      string
}

func (s *Server) operatorCarrier(w http.ResponseWriter, r *http.Request) {
	s.renderOperatorCarrier(w, r, http.StatusOK, operatorCarrierData{})
}

func (s *Server) renderOperatorCarrier(w http.ResponseWriter, r *http.Request, status int, data operatorCarrierData) {
	ctx := r.Context()
	c, err := s.app.Carriers.Carrier(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys, _, err := s.app.Credentials.ListAPIKeys(ctx, c.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Carrier, data.Keys = c, keys
	s.render(w, r, status, "operator/carrier.html", data)
}

// operatorCreateKey creates an API key and shows it once, in this answer
// (not after a redirect: the key is never stored to be shown again).
func (s *Server) operatorCreateKey(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 100 {
		s.renderOperatorCarrier(w, r, http.StatusUnprocessableEntity, operatorCarrierData{KeyName: r.PostFormValue("name"),
			Error: "Give the key a name of 1 to 100 characters, such as the system that will use it."})
		return
	}
	token, cred, err := s.app.Credentials.CreateAPIKey(r.Context(), r.PathValue("id"), name)
	if err != nil {
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		status, msg := s.errorStatus(r, err)
		s.renderOperatorCarrier(w, r, status, operatorCarrierData{KeyName: name, Error: msg})
		return
	}
	s.renderOperatorCarrier(w, r, http.StatusOK, operatorCarrierData{NewKey: token, NewKeyName: cred.Name})
}

func (s *Server) operatorRevokeKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.app.Credentials.RevokeAPIKey(r.Context(), id, r.PathValue("key")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/operator/carriers/"+url.PathEscape(id), "key-revoked")
}

// operatorBuildingData is the data of operator/building.html.
type operatorBuildingData struct {
	Building *doorman.Building
	// InviteLink is the invitation just made: shown on this answer only.
	InviteLink  string
	InviteEmail string
	Email       string
	Error       string
}

func (s *Server) operatorBuilding(w http.ResponseWriter, r *http.Request) {
	s.renderOperatorBuilding(w, r, http.StatusOK, operatorBuildingData{})
}

func (s *Server) renderOperatorBuilding(w http.ResponseWriter, r *http.Request, status int, data operatorBuildingData) {
	b, err := s.app.Buildings.Building(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Building = b
	s.render(w, r, status, "operator/building.html", data)
}

// operatorInvite invites a manager for the building and shows the
// invitation link once, to be passed to the invitee.
func (s *Server) operatorInvite(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	inv, err := s.app.Accounts.CreateInvite(r.Context(), r.PathValue("id"), email)
	if err != nil {
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			s.fail(w, r, err)
			return
		}
		status, msg := s.errorStatus(r, err)
		s.renderOperatorBuilding(w, r, status, operatorBuildingData{Email: email, Error: msg})
		return
	}
	link := s.baseURL(r) + "/console/invite?t=" + url.QueryEscape(inv.Token)
	s.renderOperatorBuilding(w, r, http.StatusOK, operatorBuildingData{InviteLink: link, InviteEmail: inv.Invite.Email})
}

// operatorAuditData is the data of operator/audit.html.
type operatorAuditData struct {
	Entries []*doorman.AuditEntry
	// Chain is the chain shown ("" for all); Chains names every chain.
	Chain  string
	Chains []chainName
	Names  map[string]string
	Next   string
	First  bool
}

// chainName is a chain and what people call it.
type chainName struct{ ID, Name string }

// operatorAudit pages through the audit log, newest first: every chain,
// or one.
func (s *Server) operatorAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	after, chain := q.Get("after"), q.Get("chain")
	buildings, _, err := s.app.Buildings.ListBuildings(ctx, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := operatorAuditData{Chain: chain, First: after == "", Names: map[string]string{doorman.PlatformChain: "Platform"},
		Chains: []chainName{{doorman.PlatformChain, "Platform"}}}
	for _, b := range buildings {
		data.Names[b.ID] = b.Name
		data.Chains = append(data.Chains, chainName{b.ID, b.Name})
	}
	if data.Entries, data.Next, err = s.app.Audit.List(ctx, app.AuditQuery{Chain: chain}, doorman.Page{After: after, Limit: 50}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "operator/audit.html", data)
}

// inviteData is the data of operator/invite.html.
type inviteData struct {
	Token string
	Name  string
	Error string
}

// invitePage is where an invited manager sets a name and password (or,
// with an account already, adds the building to it). GET only shows the
// form: the invitation is used when the form is sent.
func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "operator/invite.html", inviteData{Token: strings.TrimSpace(r.URL.Query().Get("t"))})
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	token, name, pw := strings.TrimSpace(r.PostFormValue("token")), r.PostFormValue("name"), r.PostFormValue("password")
	data := inviteData{Token: token, Name: name}
	if pw != r.PostFormValue("password2") {
		data.Error = "The two passwords are not the same."
		s.render(w, r, http.StatusUnprocessableEntity, "operator/invite.html", data)
		return
	}
	if _, err := s.app.Accounts.AcceptInvite(r.Context(), token, name, pw); err != nil {
		status, msg := s.errorStatus(r, err)
		switch doorman.ErrorCode(err) {
		case doorman.ENOTFOUND:
			msg = "This invitation does not work: it was used already, has expired, or the link is incomplete. Ask your operator for a new one."
		case doorman.ECONFLICT:
			msg = "This email has an account already. Leave the password empty to add the building to it."
		}
		data.Error = msg
		s.render(w, r, status, "operator/invite.html", data)
		return
	}
	notice := "invite-accepted"
	if pw == "" {
		notice = "invite-joined"
	}
	redirect(w, r, "/console/signin", notice)
}
