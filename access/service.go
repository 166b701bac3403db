package access

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/policy"
	"github.com/prometheus/client_golang/prometheus"
)

var _ doorman.AccessService = (*Service)(nil)

// Store is what the access service uses of the store.
type Store interface {
	Courier(ctx context.Context, id string) (*doorman.Courier, error)
	Door(ctx context.Context, id string) (*doorman.Door, error)
	Building(ctx context.Context, id string) (*doorman.Building, error)
	CarrierAllowance(ctx context.Context, buildingID, carrierID string) (*doorman.CarrierAllowance, error)
	ParcelsByTracking(ctx context.Context, tracking []string) ([]*doorman.Parcel, error)
	ReturnsByTracking(ctx context.Context, tracking []string) ([]*doorman.Return, error)
	RecordAccess(ctx context.Context, rec *doorman.AccessRecord) (*doorman.AuditEntry, error)
	Grant(ctx context.Context, id string) (*doorman.Grant, error)
	MarkGrantAcked(ctx context.Context, id string, at time.Time) error
	AppendAudit(ctx context.Context, e *doorman.AuditEntry) error
}

// Service decides access requests and records them.
type Service struct {
	store   Store
	link    doorman.DoorLink
	offline doorman.OfflineGrantSigner
	now     func() time.Time

	courierLimit, doorLimit int
	logger                  *slog.Logger

	// marks tracks grants being marked used after the courier's answer;
	// once closed, grants are marked before the answer instead.
	mu     sync.Mutex
	closed bool
	marks  sync.WaitGroup

	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec

	// slots holds a token for each request being decided; nil: no bound
	// (see WithMaxInFlight). admissionWait is how long a request waits
	// for one.
	slots         chan struct{}
	admissionWait time.Duration
}

// DefaultMaxInFlight is how many access requests a node decides at once,
// and DefaultAdmissionWait how long one waits for its turn, unless
// WithMaxInFlight says otherwise.
const (
	DefaultMaxInFlight   = 512
	DefaultAdmissionWait = time.Second
)

// busyRetryAfter is the wait a busy node asks of a courier.
const busyRetryAfter = time.Second

// WithMaxInFlight bounds the access requests the service decides at once
// (0: DefaultMaxInFlight; negative: no bound), and how long a request
// waits for its turn (0: DefaultAdmissionWait). A request that does not
// get one in time is answered EUNAVAILABLE, reason busy, Retry-After a
// second, and nothing recorded. Without a bound, a node offered more than it can
// decide queued every request behind the single writer until its caller
// gave up, so it finished next to none in time (measured at 2,000 arrivals
// a second against a capacity of ~200: none of 120,000 answered within 30
// s), and the doors' events queued behind them too.
func WithMaxInFlight(n int, wait time.Duration) Option {
	return func(s *Service) {
		if wait > 0 {
			s.admissionWait = wait
		}
		switch {
		case n < 0:
			s.slots = nil
		case n == 0:
			s.slots = make(chan struct{}, DefaultMaxInFlight)
		default:
			s.slots = make(chan struct{}, n)
		}
	}
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where the service logs what it cannot tell the caller.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// WithDoorLink sends granted unlocks to the doors through link.
func WithDoorLink(link doorman.DoorLink) Option { return func(s *Service) { s.link = link } }

// WithOfflineSigner gives couriers an offline grant, signed by signer,
// when the door did not answer and its building allows offline delivery
// (doorman.Building.OfflineDeliveryDays). Without it no offline grants
// are issued.
func WithOfflineSigner(signer doorman.OfflineGrantSigner) Option {
	return func(s *Service) { s.offline = signer }
}

// WithRateLimits sets the access requests allowed per courier and the
// grants per door within doorman.RateWindow; zero keeps the default
// (doorman.CourierRateLimit, doorman.DoorRateLimit).
func WithRateLimits(courier, door int) Option {
	return func(s *Service) {
		if courier > 0 {
			s.courierLimit = courier
		}
		if door > 0 {
			s.doorLimit = door
		}
	}
}

// WithMetrics registers the decision metrics with reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(s *Service) { reg.MustRegister(s.decisions, s.latency) }
}

// NewService returns a Service over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{
		store:         store,
		now:           time.Now,
		logger:        slog.Default(),
		courierLimit:  doorman.CourierRateLimit,
		doorLimit:     doorman.DoorRateLimit,
		slots:         make(chan struct{}, DefaultMaxInFlight),
		admissionWait: DefaultAdmissionWait,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doorman_access_decisions_total",
			Help: "Access decisions by outcome reason (\"allowed\" for grants). Rate-limited requests, and those a busy node did not take (\"busy\"), are counted here, not written to the audit log.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "doorman_access_decision_seconds",
			Help:    "Time from access request to answer, by stage: decide (load, decide, commit) and unlock (door round trip).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stage"}),
	}
	for _, r := range append([]string{"allowed", doorman.ReasonDoorOffline, doorman.ReasonDoorRejected, doorman.ReasonBusy}, doorman.Reasons...) {
		s.decisions.WithLabelValues(r) // export zeros, so rates work from the start
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// RequestAccess decides req for the calling courier, records the decision
// and, when allowed, commits the grant before the door link sees it. The
// caller must be a courier (or Doorman itself, which names the courier in
// req.CourierID, for the bench). A denial is a result, not an error; a
// refused answer never carries a grant. Returns EINVALID for a malformed
// request and for a door that does not exist or is in a building that does
// not allow the courier's carrier (one answer for both), EFORBIDDEN for a
// caller that is not a courier.
func (s *Service) RequestAccess(ctx context.Context, req doorman.AccessRequest) (*doorman.AccessResult, error) {
	start := time.Now()
	courierID, err := courierOf(ctx, req)
	if err != nil {
		return nil, err
	}
	tracking, err := validate(req)
	if err != nil {
		return nil, err
	}
	if s.slots != nil {
		if err := s.admit(ctx); err != nil {
			return nil, err
		}
		defer func() { <-s.slots }()
	}
	in, err := s.load(ctx, courierID, req, tracking)
	if err != nil {
		return nil, err
	}
	decision := policy.Decide(*in)

	rec := &doorman.AccessRecord{
		Decision:     decision,
		BuildingID:   in.Door.BuildingID,
		DoorID:       in.Door.ID,
		CarrierID:    in.Courier.CarrierID,
		CourierID:    in.Courier.ID,
		At:           in.Now,
		CourierLimit: s.courierLimit,
		DoorLimit:    s.doorLimit,
	}
	for _, sc := range in.Scans {
		if sc.Parcel != nil {
			rec.ParcelIDs = append(rec.ParcelIDs, sc.Parcel.ID)
		}
	}
	if decision.Allowed {
		rec.Grant = &doorman.Grant{
			ID:         doorman.NewID(doorman.PrefixGrant),
			DoorID:     in.Door.ID,
			BuildingID: in.Door.BuildingID,
			CourierID:  in.Courier.ID,
			CarrierID:  in.Courier.CarrierID,
			ParcelIDs:  rec.ParcelIDs,
			IssuedAt:   in.Now,
			ExpiresAt:  in.Now.Add(doorman.GrantTTL),
		}
	}
	entry, err := s.store.RecordAccess(ctx, rec)
	if doorman.ErrorReason(err) == doorman.ReasonRateLimited {
		// Counted, not chained: a flood cannot fill the building's log.
		s.latency.WithLabelValues("decide").Observe(time.Since(start).Seconds())
		d := doorman.Deny(doorman.ReasonRateLimited, doorman.ErrorMessage(err))
		s.count(d)
		return &doorman.AccessResult{Decision: d, RetryAfter: doorman.ErrorRetryAfter(err)}, nil
	} else if err != nil {
		return nil, err
	}
	s.latency.WithLabelValues("decide").Observe(time.Since(start).Seconds())

	var result *doorman.AccessResult
	switch {
	case entry.Action != doorman.ActionAccessGranted:
		// Denied by policy, or by a lockdown the store saw at commit.
		result = &doorman.AccessResult{Decision: doorman.Deny(entry.Reason, entry.Detail)}
	case s.link != nil:
		result = s.unlock(ctx, in.Building, in.Door, rec.Grant)
	default:
		result = &doorman.AccessResult{Decision: doorman.Allow(), Grant: rec.Grant}
	}
	s.count(result.Decision)
	result.Decision = result.Decision.Outward()
	return result, nil
}

// admit takes a slot for a request, waiting up to admissionWait for one
// (waiters are served in turn); a request that gets none is answered busy.
// Requests beyond the slots wait blocked rather than run: under load the
// machine's CPU is shared by every runnable goroutine, and the single
// writer, which every grant waits for, is one of them.
func (s *Service) admit(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.admissionWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return doorman.Errorf(doorman.EUNAVAILABLE, "The request was cancelled while it waited.")
	case <-t.C:
	}
	s.decisions.WithLabelValues(doorman.ReasonBusy).Inc()
	e := doorman.Errorf(doorman.EUNAVAILABLE, "The server is deciding as many requests as it can; try again in a second.")
	e.Reason, e.RetryAfter = doorman.ReasonBusy, busyRetryAfter
	return e
}

// courierOf returns the courier a request is made for: the calling
// courier, or the one Doorman itself names.
func courierOf(ctx context.Context, req doorman.AccessRequest) (string, error) {
	p := doorman.PrincipalFromContext(ctx)
	switch {
	case p == nil || p.Role == "":
		return "", doorman.Errorf(doorman.EUNAUTHORIZED, "A courier session is required.")
	case p.Role == doorman.RoleCourier:
		return p.SubjectID, nil
	case p.Role == doorman.RoleSystem && req.CourierID != "":
		return req.CourierID, nil
	}
	return "", doorman.Errorf(doorman.EFORBIDDEN, "This operation is not available to the %s role.", p.Role)
}

// unlock drives the door for a committed grant and reports what happened.
// A door that did not answer in a building that allows offline delivery
// answers door_offline with an offline grant (see offlineGrant).
func (s *Service) unlock(ctx context.Context, b *doorman.Building, door *doorman.Door, g *doorman.Grant) *doorman.AccessResult {
	start := time.Now()
	defer func() { s.latency.WithLabelValues("unlock").Observe(time.Since(start).Seconds()) }()
	// A lockdown may have revoked the grant since it was committed. A
	// grant that cannot be read is not sent either: the door stays shut.
	current, err := s.store.Grant(ctx, g.ID)
	if err != nil {
		level := slog.LevelError
		if ctx.Err() != nil {
			level = slog.LevelDebug // the courier gave up waiting: not the store's fault
		}
		s.logger.Log(ctx, level, "access: re-reading a grant before sending it", "grant", g.ID, "err", err)
		return s.unlockFailed(ctx, g, doorman.Deny(doorman.ReasonDoorOffline, "The door could not be reached; try again."))
	} else if current.RevokedAt != nil {
		return s.unlockFailed(ctx, g, doorman.Deny(doorman.ReasonDoorLockedDown, "The building manager has locked this door down."))
	}
	ack, err := s.link.Unlock(ctx, door, g)
	if err != nil {
		reason := doorman.ErrorReason(err)
		if reason == "" {
			reason = doorman.ReasonDoorOffline
		}
		result := s.unlockFailed(ctx, g, doorman.Deny(reason, doorman.ErrorMessage(err)))
		if reason == doorman.ReasonDoorOffline {
			result.OfflineGrant = s.offlineGrant(ctx, b, door, g)
		}
		return result
	}
	// The device acknowledged: the grant is spent. It is marked used after
	// the courier has the answer (the device's unlock_executed event marks
	// it too, in case this write is lost).
	at := ack.ExecutedAt
	if at.IsZero() {
		at = s.now()
	}
	g.UsedAt = &at
	mark := func() {
		err := s.store.MarkGrantAcked(context.WithoutCancel(ctx), g.ID, at)
		if err != nil && doorman.ErrorCode(err) != doorman.ECONFLICT {
			s.logger.Warn("access: marking an executed grant used", "grant", g.ID, "err", err)
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		mark()
	} else {
		s.marks.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.marks.Done()
			mark()
		}()
	}
	return &doorman.AccessResult{Decision: doorman.Allow(), Grant: g}
}

// Close waits, until ctx ends, for grants still being marked used; grants
// executed after it are marked before their answer. A mark that does not
// finish is not lost: the device's unlock_executed event marks the grant
// too.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.marks.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unlockFailed records that a committed grant did not open the door, so
// the log does not read as if it did, and answers the courier with d. The
// answer carries no grant: the courier may ask again.
func (s *Service) unlockFailed(ctx context.Context, g *doorman.Grant, d doorman.Decision) *doorman.AccessResult {
	e := &doorman.AuditEntry{Action: doorman.ActionUnlockFailed, BuildingID: g.BuildingID, DoorID: g.DoorID,
		CarrierID: g.CarrierID, CourierID: g.CourierID, GrantID: g.ID, ParcelIDs: g.ParcelIDs,
		Reason: d.Reason, Detail: d.Detail, At: s.now()}
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("access: could not record a failed unlock", "grant", g.ID, "err", err)
	}
	return &doorman.AccessResult{Decision: d}
}

// offlineGrant returns an offline grant for g, whose door did not answer,
// when the building allows offline delivery, and records it in the
// building's chain (grant.offline_issued, after the access.unlock_failed).
// The grant stays committed: it is what the offline grant is for, and the
// door's report of its use marks it used. Nil when offline delivery is
// off, no signer is set, or signing or recording fails (logged): the
// courier is then refused as before.
func (s *Service) offlineGrant(ctx context.Context, b *doorman.Building, door *doorman.Door, g *doorman.Grant) *doorman.OfflineGrant {
	if s.offline == nil || b == nil || b.OfflineDeliveryDays <= 0 {
		return nil
	}
	og, err := s.offline.SignOfflineGrant(door, g)
	if err != nil {
		s.logger.Warn("access: signing an offline grant", "grant", g.ID, "err", err)
		return nil
	}
	e := &doorman.AuditEntry{Action: doorman.ActionGrantOfflineIssued, BuildingID: g.BuildingID, DoorID: g.DoorID,
		CarrierID: g.CarrierID, CourierID: g.CourierID, GrantID: g.ID, ParcelIDs: g.ParcelIDs,
		Detail: "offline grant " + og.JTI + " valid until " + og.ExpiresAt.UTC().Format(time.RFC3339), At: s.now()}
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		// An offline grant the log does not show would read as a forged
		// one when the door reports it: none is given.
		s.logger.Error("access: could not record an offline grant", "grant", g.ID, "err", err)
		return nil
	}
	return og
}

func (s *Service) count(d doorman.Decision) {
	if d.Allowed {
		s.decisions.WithLabelValues("allowed").Inc()
	} else {
		s.decisions.WithLabelValues(d.Reason).Inc()
	}
}

// Metrics returns the decisions counter, by reason ("allowed" for grants).
func (s *Service) Metrics() *prometheus.CounterVec { return s.decisions }
