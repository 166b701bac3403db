package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// ResidentStore is what the Residents service uses of the store.
type ResidentStore interface {
	scopeStore
	ThrottleStore
	doorman.ResidentStore
	Unit(ctx context.Context, buildingID, id string) (*doorman.Unit, error)
	AllowedCarriers(ctx context.Context, buildingID string) ([]*doorman.Carrier, error)
	ListDoors(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Door, string, error)
	LatestAuditCheckpoint(ctx context.Context, chain string) (*doorman.AuditCheckpoint, error)
	ListMessages(ctx context.Context, f doorman.MessageFilter, p doorman.Page) ([]*doorman.Message, string, error)
	doorman.DeliveryPhotoStore
}

// Magic-link request limits. None lets an outsider keep a resident out:
// a flood of requests for a resident's email stops further mail for the
// hour, but never touches the links already sent, which stay valid until
// used or expired, and never the addresses the resident signed in from
// in the last KnownLinkAddressTTL, which keep getting links; the address
// limit counts only the address asking.
const (
	// LinkAddrRequests requests from one address within LinkAddrWindow
	// refuse that address.
	LinkAddrRequests = 20
	LinkAddrWindow   = 15 * time.Minute
	// LinkEmailMails links mailed to one email within LinkEmailWindow:
	// requests beyond it get the same answer, and no mail.
	LinkEmailMails  = 3
	LinkEmailWindow = time.Hour
)

var (
	linkAddr  = limit{prefix: "residentlink:addr:", max: LinkAddrRequests, window: LinkAddrWindow}
	linkEmail = limit{prefix: "residentlink:email:", max: LinkEmailMails, window: LinkEmailWindow}
	// linkUnknown is not a limit: counting it is the write a request for
	// an unknown email makes in place of a link's.
	linkUnknown = limit{prefix: "residentlink:unknown:", max: 1, window: LinkEmailWindow}
	// linkKnown is not a limit: a count of at least one marks an address
	// a resident signed in from, for KnownLinkAddressTTL. It is keyed by
	// the resident's ID, so it says nothing once the resident is gone.
	linkKnown = limit{prefix: "residentlink:known:", max: 1, window: KnownLinkAddressTTL}
)

// KnownLinkAddressTTL is how long an address a resident signed in from
// keeps getting links past their email's mail limit.
const KnownLinkAddressTTL = 30 * 24 * time.Hour

// residentsOnly admits residents signed in with a magic link.
var residentsOnly = []string{doorman.RoleResident}

// Residents runs the use cases of residents: magic links and their
// sessions, the resident's page (deliveries to their unit, entries at
// their building, what the building allows), their preferences, deleting
// their data, and the sign-in links they are mailed.
type Residents struct {
	scope
	store       ResidentStore
	credentials *Credentials
	now         func() time.Time
	logger      *slog.Logger
}

// NewResidents returns the Residents service over store.
func NewResidents(store ResidentStore, credentials *Credentials, now func() time.Time, logger *slog.Logger) *Residents {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Residents{scope: scope{store}, store: store, credentials: credentials, now: now, logger: logger}
}

// RequestLink mails a sign-in link to every resident with that email,
// for anyone who asks (the caller may be anonymous): baseURL is where the
// link leads (scheme and host, no trailing slash) and addr the client's
// address (AddrKey). It answers the same whether or not the email belongs
// to a resident, and whether or not the email's mail limit held the mail
// back. Returns EINVALID for a malformed email and ETOOMANYREQUEST while
// the address's limit holds.
func (s *Residents) RequestLink(ctx context.Context, email, addr, baseURL string) error {
	email = strings.TrimSpace(email)
	if !doorman.ValidEmail(email) {
		return doorman.InvalidField("email", "Enter your email address, like name@example.org.")
	}
	now := s.now()
	if n, until, err := linkAddr.count(ctx, s.store, addr, now); err != nil {
		return err
	} else if n > linkAddr.max {
		return tooMany("Too many sign-in links were asked for from your network; try again later.", now, until)
	}
	emailKey := strings.ToLower(email)
	n, _, err := linkEmail.count(ctx, s.store, emailKey, now)
	if err != nil {
		return err
	} else if n == linkEmail.max+1 {
		s.logger.Warn("app: resident sign-in link limit reached for an email; only addresses its residents signed in from get more mail this hour")
	}
	residents, err := s.store.ResidentsByEmail(ctx, email)
	if err != nil {
		return err
	}
	if len(residents) == 0 {
		// A durable write, as a link and its mail would be, so that the
		// time of the answer does not tell whether the email is a
		// resident's.
		_, _, err := linkUnknown.count(ctx, s.store, emailKey, now)
		return err
	}
	for _, r := range residents {
		if n > linkEmail.max {
			if known, _, err := linkKnown.over(ctx, s.store, r.ID+"|"+addr, now); err != nil {
				return err
			} else if !known {
				continue
			}
		}
		if _, err := s.sendLink(ctx, r, baseURL); err != nil {
			return err
		}
	}
	return nil
}

// CreateLink mails a sign-in link to the first resident with that email
// and returns it (Doorman itself only: the demo prints one). Returns
// ENOTFOUND.
func (s *Residents) CreateLink(ctx context.Context, email, baseURL string) (string, error) {
	if p := caller(ctx); p.Role != doorman.RoleSystem {
		return "", doorman.Errorf(doorman.EFORBIDDEN, "Only Doorman itself makes sign-in links on its own.")
	}
	residents, err := s.store.ResidentsByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return "", err
	} else if len(residents) == 0 {
		return "", notFound("Resident")
	}
	return s.sendLink(ctx, residents[0], baseURL)
}

// LinkPath is the path of a magic link, followed by its token.
const LinkPath = "/resident/link?t="

// sendLink makes a link for r and queues the mail carrying it.
func (s *Residents) sendLink(ctx context.Context, r *doorman.Resident, baseURL string) (string, error) {
	b, err := s.store.Building(ctx, r.BuildingID)
	if err != nil {
		return "", err
	}
	token, hash := doorman.NewToken(doorman.TokenResidentLink)
	now := s.now().UTC()
	link := &doorman.ResidentLink{ResidentID: r.ID, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(doorman.ResidentLinkTTL)}
	url := strings.TrimRight(baseURL, "/") + LinkPath + token
	minutes := int(doorman.ResidentLinkTTL / time.Minute)
	payload, err := json.Marshal(SignInLinkData{Name: r.Name, Building: b.Name, URL: url, Minutes: minutes})
	if err != nil {
		return "", err
	}
	m := &doorman.Message{
		Channel: doorman.ChannelEmail, Kind: doorman.KindResidentSignInLink,
		BuildingID: r.BuildingID, ResidentID: r.ID, Target: r.Email,
		Subject: "Your sign-in link for " + b.Name, Payload: payload,
		Text: fmt.Sprintf("Hello %s,\n\nfollow this link to see your deliveries and the entries at %s:\n\n%s\n\n"+
			"The link works once, for %d minutes. If you did not ask for it, ignore this mail.\n",
			r.Name, b.Name, url, minutes),
	}
	if err := s.store.CreateResidentLink(ctx, link, m); err != nil {
		return "", err
	}
	return url, nil
}

// ResidentSignedIn is a new resident session; Token is shown once.
type ResidentSignedIn struct {
	Token      string
	Credential *doorman.Credential
}

// UseLink exchanges a magic link's token for a resident session, valid
// doorman.ResidentSessionTTL; the link is used up. Anyone holding the
// link may call it; addr is the client's address (AddrKey), which keeps
// getting links for the resident's email past its mail limit. Returns
// EUNAUTHORIZED for a link that is unknown, used, expired or whose
// resident is gone (one answer for all).
func (s *Residents) UseLink(ctx context.Context, token, addr string) (*ResidentSignedIn, error) {
	token = strings.TrimSpace(token)
	bad := doorman.Errorf(doorman.EUNAUTHORIZED, "This sign-in link does not work: it was used already, has expired, or is incomplete. Ask for a new one.")
	if !strings.HasPrefix(token, doorman.TokenResidentLink) || len(token) > MaxTokenLen {
		return nil, bad
	}
	link, err := s.store.UseResidentLink(ctx, doorman.HashToken(token), s.now())
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	r, err := s.store.Resident(ctx, link.ResidentID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	tok, cred, err := s.credentials.mint(ctx, doorman.RoleResident, r.ID, "", "magic link", doorman.ResidentSessionTTL)
	if err != nil {
		return nil, err
	}
	key := linkKnown.prefix + r.ID + "|" + addr
	if err := s.store.ThrottleReset(ctx, key); err != nil {
		return nil, err
	}
	if _, _, err := s.store.ThrottleFail(ctx, key, s.now(), linkKnown.window); err != nil {
		return nil, err
	}
	return &ResidentSignedIn{Token: tok, Credential: cred}, nil
}

// me returns the calling resident: EUNAUTHORIZED when the resident is
// gone (their data deleted), whatever their session says.
func (s *Residents) me(ctx context.Context) (*doorman.Resident, error) {
	p, err := require(ctx, residentsOnly)
	if err != nil {
		return nil, err
	}
	r, err := s.store.Resident(ctx, p.SubjectID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "Your session has ended. Ask for a new sign-in link.")
	}
	return r, err
}

// SetPreferences stores the calling resident's notification preferences.
func (s *Residents) SetPreferences(ctx context.Context, p doorman.ResidentPreferences) error {
	r, err := s.me(ctx)
	if err != nil {
		return err
	}
	return s.store.SetResidentPreferences(ctx, r.ID, p)
}

// DeleteMyData deletes the calling resident's data (ETSI EN 303 645
// §5.11): their record, email, preferences, sessions, links and the mail
// addressed to them. The building's audit log keeps its entries, which
// never named them, and records the deletion by the resident's ID alone;
// parcels keep their unit, not the person.
func (s *Residents) DeleteMyData(ctx context.Context) error {
	r, err := s.me(ctx)
	if err != nil {
		return err
	}
	return s.store.EraseResident(ctx, r.BuildingID, r.ID)
}

// hideLinks replaces the token of every magic link in body.
func hideLinks(body string) string {
	var out strings.Builder
	for {
		i := strings.Index(body, doorman.TokenResidentLink)
		if i < 0 {
			out.WriteString(body)
			return out.String()
		}
		out.WriteString(body[:i])
		out.WriteString("[sign-in link hidden]")
		body = body[i+len(doorman.TokenResidentLink):]
		j := strings.IndexFunc(body, func(r rune) bool {
			return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		})
		if j < 0 {
			j = len(body)
		}
		body = body[j:]
	}
}

// SignInLinkData is what the sign-in link's email templates are
// rendered from (the message's Payload).
type SignInLinkData struct {
	Name     string `json:"name"`
	Building string `json:"building"`
	URL      string `json:"url"`
	Minutes  int    `json:"minutes"`
}

// OutboxMail returns the newest email messages of every building, at
// most limit, oldest first and bodies whole (Doorman itself only: the
// demo and tests read sign-in links here). limit is clamped to
// 1..doorman.MaxPageLimit.
func (s *Residents) OutboxMail(ctx context.Context, limit int) ([]*doorman.Message, error) {
	if p := caller(ctx); p.Role != doorman.RoleSystem {
		return nil, doorman.Errorf(doorman.EFORBIDDEN, "Only Doorman itself reads the outbox.")
	}
	list, _, err := s.store.ListMessages(ctx, doorman.MessageFilter{Channel: doorman.ChannelEmail}, doorman.Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	return list, nil
}
