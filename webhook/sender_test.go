package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/webhook"
)

// memStore is the sender's store in memory.
type memStore struct {
	mu         sync.Mutex
	endpoints  map[string]*doorman.WebhookEndpoint
	deliveries []*doorman.WebhookDelivery
}

func newMemStore(eps ...*doorman.WebhookEndpoint) *memStore {
	s := &memStore{endpoints: map[string]*doorman.WebhookEndpoint{}}
	for _, e := range eps {
		s.endpoints[e.ID] = e
	}
	return s
}

func (s *memStore) WebhookEndpoint(_ context.Context, id string) (*doorman.WebhookEndpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[id]
	if !ok {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "Webhook endpoint not found.")
	}
	c := *e
	return &c, nil
}

func (s *memStore) UpdateWebhookEndpoint(_ context.Context, id string, upd doorman.WebhookEndpointUpdate) (*doorman.WebhookEndpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[id]
	if !ok {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "Webhook endpoint not found.")
	}
	if upd.Enabled != nil {
		e.Enabled = *upd.Enabled
	}
	if upd.DisabledReason != nil {
		e.DisabledReason = *upd.DisabledReason
	}
	c := *e
	return &c, nil
}

func (s *memStore) RecordWebhookDelivery(_ context.Context, d *doorman.WebhookDelivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = append(s.deliveries, d)
	return nil
}

func (s *memStore) last(t *testing.T) *doorman.WebhookDelivery {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.deliveries) == 0 {
		t.Fatal("no delivery recorded")
	}
	return s.deliveries[len(s.deliveries)-1]
}

// call is one request a receiver got.
type call struct {
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	Secret  string            `json:"secret"`
}

// receiver is a webhook receiver answering status, recording each call.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	calls  []call
}

func newReceiver(t *testing.T, tls bool) *receiver {
	r := &receiver{}
	r.status.Store(http.StatusNoContent)
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls = append(r.calls, call{Headers: map[string]string{
			"webhook-id":        req.Header.Get("webhook-id"),
			"webhook-timestamp": req.Header.Get("webhook-timestamp"),
			"webhook-signature": req.Header.Get("webhook-signature"),
		}, Body: string(body)})
		r.mu.Unlock()
		if code := int(r.status.Load()); code == http.StatusFound {
			http.Redirect(w, req, "/elsewhere", code)
		} else {
			w.WriteHeader(code)
		}
	})
	if tls {
		r.Server = httptest.NewTLSServer(h)
	} else {
		r.Server = httptest.NewServer(h)
	}
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

func endpoint(url string) *doorman.WebhookEndpoint {
	return &doorman.WebhookEndpoint{ID: doorman.NewID(doorman.PrefixWebhook), BuildingID: doorman.NewID(doorman.PrefixBuilding),
		URL: url, EventTypes: doorman.WebhookEventTypes, Enabled: true, Secret: webhook.NewSecret()}
}

func message(ep *doorman.WebhookEndpoint) *doorman.Message {
	return &doorman.Message{ID: doorman.NewID("msg"), Channel: doorman.ChannelWebhook, Target: ep.ID, Kind: doorman.WebhookDoorOpened,
		Payload: []byte(`{"type":"door.opened","timestamp":"2026-12-01T07:00:00Z","data":{"building_id":"bld_x"}}`)}
}

var loopback = &webhook.Guard{AllowLoopback: true}

func TestSendSignsAndRecords(t *testing.T) {
	r := newReceiver(t, false)
	ep := endpoint(r.URL + "/hook")
	store := newMemStore(ep)
	s := webhook.NewSender(store, loopback, 0, nil, nil)
	if s.Channel() != doorman.ChannelWebhook {
		t.Fatalf("Channel = %q", s.Channel())
	}
	m := message(ep)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	calls := r.got()
	if len(calls) != 1 {
		t.Fatalf("receiver got %d calls", len(calls))
	}
	c := calls[0]
	if c.Headers["webhook-id"] != m.ID || c.Body != string(m.Payload) {
		t.Fatalf("call = %+v", c)
	}
	want, _ := webhook.Signature(ep.Secret, m.ID, mustInt(t, c.Headers["webhook-timestamp"]), m.Payload)
	if c.Headers["webhook-signature"] != want {
		t.Fatalf("signature = %q, want %q", c.Headers["webhook-signature"], want)
	}
	if d := store.last(t); !d.OK || d.StatusCode != 204 || d.MessageID != m.ID || d.EventType != m.Kind {
		t.Fatalf("recorded %+v", d)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	if d := time.Since(time.Unix(n, 0)); d < -time.Minute || d > time.Minute {
		t.Fatalf("timestamp %q is not now", s)
	}
	return n
}

// TestRotationOverlap: during the overlap a call carries the signatures
// of both secrets, and either verifies; after it only the new one's.
func TestRotationOverlap(t *testing.T) {
	r := newReceiver(t, false)
	old, next := webhook.NewSecret(), webhook.NewSecret()
	during := endpoint(r.URL)
	until := time.Now().Add(doorman.WebhookRotationOverlap)
	during.Secret, during.PreviousSecret, during.PreviousUntil = next, old, &until
	after := endpoint(r.URL)
	past := time.Now().Add(-time.Second)
	after.Secret, after.PreviousSecret, after.PreviousUntil = next, old, &past
	s := webhook.NewSender(newMemStore(during, after), loopback, 0, nil, nil)
	for _, ep := range []*doorman.WebhookEndpoint{during, after} {
		if err := s.Send(context.Background(), message(ep)); err != nil {
			t.Fatal(err)
		}
	}
	calls := r.got()
	sig := func(c call, secret string) string {
		s, _ := webhook.Signature(secret, c.Headers["webhook-id"], mustInt(t, c.Headers["webhook-timestamp"]), []byte(c.Body))
		return s
	}
	if got, want := calls[0].Headers["webhook-signature"], sig(calls[0], next)+" "+sig(calls[0], old); got != want {
		t.Fatalf("during the overlap: %q, want %q", got, want)
	}
	if got, want := calls[1].Headers["webhook-signature"], sig(calls[1], next); got != want {
		t.Fatalf("after the overlap: %q, want %q", got, want)
	}

	// The reference implementation agrees.
	cases := []call{calls[0], calls[0], calls[1], calls[1]}
	cases[0].Secret, cases[1].Secret, cases[2].Secret, cases[3].Secret = old, next, next, old
	got := verifyWithReference(t, cases)
	if got[0] != true || got[1] != true || got[2] != true || got[3] == true {
		t.Fatalf("standardwebhooks verify: old during, new during, new after, old after = %v", got)
	}
}

// standardWebhooksVersion is the npm standardwebhooks the tests verify
// with.
const standardWebhooksVersion = "1.1.1"

// verifyWithReference runs testdata/verify.js with npm's standardwebhooks
// package (installed once into the user's cache directory): it skips
// without node or npm, and fails instead when CI is set.
func verifyWithReference(t *testing.T, cases []call) []any {
	t.Helper()
	need := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("verifying with standardwebhooks needs %s: %v", what, err)
		}
		t.Skipf("verifying with standardwebhooks needs %s: %v", what, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		need("node", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		need("a cache directory", err)
	}
	dir := filepath.Join(cache, "doorman-test", "standardwebhooks@"+standardWebhooksVersion)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json")); err != nil {
		out, err := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir,
			"standardwebhooks@"+standardWebhooksVersion).CombinedOutput()
		if err != nil {
			need("npm install standardwebhooks", errors.New(err.Error()+": "+string(out)))
		}
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(node, "testdata/verify.js")
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.js: %v", err)
	}
	var res []any
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("verify.js said %s (%v)", out, err)
	}
	return res
}

func TestVerifiedByReference(t *testing.T) {
	r := newReceiver(t, false)
	ep := endpoint(r.URL)
	s := webhook.NewSender(newMemStore(ep), loopback, 0, nil, nil)
	if err := s.Send(context.Background(), message(ep)); err != nil {
		t.Fatal(err)
	}
	c := r.got()[0]
	c.Secret = ep.Secret
	tampered, wrong := c, c
	tampered.Body = strings.Replace(c.Body, "bld_x", "bld_y", 1)
	wrong.Secret = webhook.NewSecret()
	got := verifyWithReference(t, []call{c, tampered, wrong})
	if got[0] != true || got[1] == true || got[2] == true {
		t.Fatalf("standardwebhooks verify: signed, tampered, wrong secret = %v", got)
	}
}

func TestSendAnswers(t *testing.T) {
	r := newReceiver(t, false)
	ep := endpoint(r.URL)
	store := newMemStore(ep)
	s := webhook.NewSender(store, loopback, 0, nil, nil)
	for _, code := range []int{500, 404, 429, 302} {
		r.status.Store(int32(code))
		err := s.Send(context.Background(), message(ep))
		if err == nil || doorman.ErrorCode(err) == doorman.EINVALID {
			t.Errorf("answer %d: %v, want an error to retry", code, err)
		}
		if d := store.last(t); d.OK || d.StatusCode != code || d.Error == "" {
			t.Errorf("answer %d recorded %+v", code, d)
		}
	}
	// The redirect was not followed.
	for _, c := range r.got() {
		if c.Headers["webhook-id"] == "" {
			t.Fatal("the redirect was followed")
		}
	}
	if n := len(r.got()); n != 4 {
		t.Fatalf("receiver got %d calls, want 4 (no redirect followed)", n)
	}

	// 410 Gone disables the endpoint, for good.
	r.status.Store(http.StatusGone)
	if err := s.Send(context.Background(), message(ep)); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("410: %v, want EINVALID", err)
	}
	if e, _ := store.WebhookEndpoint(context.Background(), ep.ID); e.Enabled || e.DisabledReason == "" {
		t.Fatalf("after 410: %+v", e)
	}
	r.status.Store(http.StatusOK)
	if err := s.Send(context.Background(), message(ep)); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("disabled endpoint: %v, want EINVALID", err)
	}
	// A deleted endpoint's message is dead too.
	m := message(ep)
	m.Target = doorman.NewID(doorman.PrefixWebhook)
	if err := s.Send(context.Background(), m); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("deleted endpoint: %v, want EINVALID", err)
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	ep := endpoint(slow.URL)
	store := newMemStore(ep)
	s := webhook.NewSender(store, loopback, 200*time.Millisecond, nil, nil)
	err := s.Send(context.Background(), message(ep))
	if err == nil || doorman.ErrorCode(err) == doorman.EINVALID {
		t.Fatalf("hanging receiver: %v, want an error to retry", err)
	}
	if d := store.last(t); d.OK || d.StatusCode != 0 {
		t.Fatalf("recorded %+v", d)
	}
}

// lookup resolves every name to the addresses given, in turn.
func lookup(addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
	var n atomic.Int32
	return func(context.Context, string) ([]netip.Addr, error) {
		i := min(int(n.Add(1))-1, len(addrs)-1)
		return []netip.Addr{netip.MustParseAddr(addrs[i])}, nil
	}
}

func TestGuardCheckURL(t *testing.T) {
	ctx := context.Background()
	production := &webhook.Guard{Lookup: lookup("93.184.216.34")}
	for _, u := range []string{"https://hooks.example.com/doorman", "https://93.184.216.34:8443/x", "https://[2606:4700::1111]/"} {
		if _, err := production.CheckURL(ctx, u); err != nil {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
	refused := []string{
		"http://hooks.example.com/", // not https
		"ftp://hooks.example.com/",
		"https://user:pw@hooks.example.com/",
		"hooks.example.com/path",
		"https://127.0.0.1/", "https://127.1.2.3:9000/", "https://[::1]/", // loopback
		"https://10.0.0.1/", "https://172.16.5.4/", "https://192.168.1.1/", "https://[fd00::1]/", // private
		"https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/", // link-local (cloud metadata)
		"https://224.0.0.1/", "https://[ff02::1]/", // multicast
		"https://0.0.0.0/", "https://[::]/", // unspecified
		"https://100.64.0.1/", "https://100.127.255.254/", // CGNAT
		"https://[::ffff:127.0.0.1]/", "https://[::ffff:10.0.0.1]/", // IPv4-mapped
		"https://[64:ff9b::a00:1]/", // NAT64 of 10.0.0.1
	}
	for _, u := range refused {
		_, err := production.CheckURL(ctx, u)
		if doorman.ErrorCode(err) != doorman.EINVALID || !errors.Is(err, webhook.ErrRefused) {
			t.Errorf("CheckURL(%q) = %v, want refused", u, err)
		}
	}
	// A name that resolves to loopback or a private address is refused.
	for _, ip := range []string{"127.0.0.1", "10.1.2.3", "::1"} {
		g := &webhook.Guard{Lookup: lookup(ip)}
		if _, err := g.CheckURL(ctx, "https://localhost/"); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Errorf("a name resolving to %s: %v, want refused", ip, err)
		}
	}

	// With --webhook-allow-loopback: loopback, over http too; nothing else
	// private, and http only to loopback.
	dev := &webhook.Guard{AllowLoopback: true, Lookup: lookup("93.184.216.34")}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "https://[::1]:8443/", "https://hooks.example.com/"} {
		if _, err := dev.CheckURL(ctx, u); err != nil {
			t.Errorf("loopback allowed: CheckURL(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1/", "http://hooks.example.com/", "https://169.254.169.254/"} {
		if _, err := dev.CheckURL(ctx, u); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Errorf("loopback allowed: CheckURL(%q) = %v, want refused", u, err)
		}
	}
}

// TestSendRefusesLoopback: in production mode a call to a loopback
// address is refused at send time too (the URL got past a check that
// was made elsewhere or earlier), and the refusal is permanent.
func TestSendRefusesLoopback(t *testing.T) {
	r := newReceiver(t, true)
	ep := endpoint(r.URL) // https://127.0.0.1:port
	store := newMemStore(ep)
	s := webhook.NewSender(store, &webhook.Guard{}, 0, nil, nil)
	err := s.Send(context.Background(), message(ep))
	if doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("Send to loopback in production mode = %v, want EINVALID", err)
	}
	if n := len(r.got()); n != 0 {
		t.Fatalf("the receiver got %d calls", n)
	}
	if d := store.last(t); d.OK || !strings.Contains(d.Error, "refused") {
		t.Fatalf("recorded %+v", d)
	}
}

// TestSendRefusesRebinding: a name that resolved to a public address when
// the endpoint was made and resolves to 127.0.0.1 when the call is sent
// is refused: the address checked is the address dialled.
func TestSendRefusesRebinding(t *testing.T) {
	r := newReceiver(t, true)
	port := r.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	g := &webhook.Guard{Lookup: lookup("93.184.216.34", "127.0.0.1")}
	url := "https://rebind.example:" + itoa(int(port)) + "/hook"
	if _, err := g.CheckURL(context.Background(), url); err != nil {
		t.Fatalf("CheckURL at creation: %v", err)
	}
	ep := endpoint(url)
	s := webhook.NewSender(newMemStore(ep), g, 0, nil, nil)
	if err := s.Send(context.Background(), message(ep)); doorman.ErrorCode(err) != doorman.EINVALID || !errors.Is(err, webhook.ErrRefused) {
		t.Fatalf("Send after rebinding = %v, want refused", err)
	}
	if n := len(r.got()); n != 0 {
		t.Fatalf("the receiver got %d calls", n)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
