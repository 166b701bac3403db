package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/doorman-dev/doorman"
)

// Store is what the sender reads and writes.
type Store interface {
	WebhookEndpoint(ctx context.Context, id string) (*doorman.WebhookEndpoint, error)
	UpdateWebhookEndpoint(ctx context.Context, id string, upd doorman.WebhookEndpointUpdate) (*doorman.WebhookEndpoint, error)
	RecordWebhookDelivery(ctx context.Context, d *doorman.WebhookDelivery) error
}

// Limits of one call.
const (
	// DefaultTimeout bounds a call from dial to the end of the answer.
	DefaultTimeout = 10 * time.Second
	// MaxResponseBody is how much of an answer's body is read (and
	// dropped): receivers are asked for a status, nothing more.
	MaxResponseBody = 64 << 10
)

// Sender POSTs webhook messages to their endpoints, signed: the
// app.Sender of doorman.ChannelWebhook. A 2xx answer is a delivery; any
// other answer, a redirect (never followed) or a timeout is an error the
// outbox retries; 410 Gone disables the endpoint and, like a deleted or
// disabled endpoint or a refused address, is permanent (EINVALID). Every
// attempt is recorded for the endpoint's owner to see.
type Sender struct {
	store  Store
	guard  *Guard
	client *http.Client
	now    func() time.Time
	logger *slog.Logger
}

// NewSender returns a sender whose calls the guard admits, each bounded by
// timeout (DefaultTimeout when 0).
func NewSender(store Store, guard *Guard, timeout time.Duration, now func() time.Time, logger *slog.Logger) *Sender {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial where the guard cannot see
		DialContext:           guard.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Sender{
		store: store,
		guard: guard,
		client: &http.Client{
			Transport:     transport,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:    now,
		logger: logger,
	}
}

// Channel returns doorman.ChannelWebhook.
func (s *Sender) Channel() string { return doorman.ChannelWebhook }

// Send delivers m to the endpoint m.Target.
func (s *Sender) Send(ctx context.Context, m *doorman.Message) error {
	ep, err := s.store.WebhookEndpoint(ctx, m.Target)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return doorman.Errorf(doorman.EINVALID, "The webhook endpoint was deleted.")
	} else if err != nil {
		return err
	}
	if !ep.Enabled {
		return doorman.Errorf(doorman.EINVALID, "The webhook endpoint is disabled.")
	}
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && s.guard.AllowLoopback)) {
		return s.record(ctx, ep, m, 0, 0, doorman.Errorf(doorman.EINVALID, "The endpoint URL must be https."))
	}
	now := s.now()
	ts := now.Unix()
	sig, err := Sign(ep.Secrets(now), m.ID, ts, m.Payload)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(m.Payload))
	if err != nil {
		return s.record(ctx, ep, m, 0, 0, doorman.Errorf(doorman.EINVALID, "The endpoint URL is not usable: %v", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Doorman-Webhooks/1")
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sig)

	start := time.Now()
	resp, err := s.client.Do(req)
	took := time.Since(start)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return s.record(ctx, ep, m, 0, took, errors.Join(doorman.Errorf(doorman.EINVALID, "The endpoint's address was refused: %v", err), ErrRefused))
		}
		return s.record(ctx, ep, m, 0, took, fmt.Errorf("webhook call failed: %w", err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBody))
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return s.record(ctx, ep, m, code, took, nil)
	case code == http.StatusGone:
		off, reason := false, "The receiver answered 410 Gone."
		if _, err := s.store.UpdateWebhookEndpoint(context.WithoutCancel(ctx), ep.ID,
			doorman.WebhookEndpointUpdate{Enabled: &off, DisabledReason: &reason}); err != nil {
			s.logger.Error("disabling a gone webhook endpoint", "endpoint", ep.ID, "err", err)
		}
		return s.record(ctx, ep, m, code, took, doorman.Errorf(doorman.EINVALID, "The receiver answered 410 Gone: the endpoint is disabled."))
	case code >= 300 && code < 400:
		return s.record(ctx, ep, m, code, took, fmt.Errorf("the receiver answered %d; redirects are not followed", code))
	default:
		return s.record(ctx, ep, m, code, took, fmt.Errorf("the receiver answered %d", code))
	}
}

// record keeps the attempt's outcome and returns err.
func (s *Sender) record(ctx context.Context, ep *doorman.WebhookEndpoint, m *doorman.Message, code int, took time.Duration, err error) error {
	d := &doorman.WebhookDelivery{EndpointID: ep.ID, MessageID: m.ID, EventType: m.Kind, At: s.now(),
		StatusCode: code, OK: err == nil, DurationMS: took.Milliseconds()}
	if err != nil {
		d.Error = err.Error()
	}
	if rerr := s.store.RecordWebhookDelivery(context.WithoutCancel(ctx), d); rerr != nil {
		s.logger.Error("recording a webhook delivery", "endpoint", ep.ID, "message", m.ID, "err", rerr)
	}
	return err
}
