package access

import (
	"context"
	"log/slog"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/policy"
	"github.com/prometheus/client_golang/prometheus"
)

var _ doorman.AccessService = (*Service)(nil)

// Service decides access requests and records them.
type Service struct {
	store doorman.Store
	link  doorman.DoorLink
	now   func() time.Time

	limits policy.Limits
	logger *slog.Logger

	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where the service logs what it cannot tell the caller.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// WithDoorLink sends granted unlocks to the doors through link.
func WithDoorLink(link doorman.DoorLink) Option { return func(s *Service) { s.link = link } }

// WithRateLimits sets the access requests allowed per courier and per door
// within doorman.RateWindow; zero keeps a default.
func WithRateLimits(courier, door int) Option {
	return func(s *Service) { s.limits = policy.Limits{Courier: courier, Door: door} }
}

// WithMetrics registers the decision metrics with reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(s *Service) { reg.MustRegister(s.decisions, s.latency) }
}

// NewService returns a Service over store.
func NewService(store doorman.Store, opts ...Option) *Service {
	s := &Service{
		store:  store,
		now:    time.Now,
		logger: slog.Default(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "doorman_access_decisions_total",
			Help: "Access decisions by outcome reason (\"allowed\" for grants).",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "doorman_access_decision_seconds",
			Help:    "Time from access request to answer, by stage: decide (load, decide, commit) and unlock (door round trip).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"stage"}),
	}
	for _, r := range append([]string{"allowed", doorman.ReasonDoorOffline, doorman.ReasonDoorRejected}, doorman.Reasons...) {
		s.decisions.WithLabelValues(r) // export zeros, so rates work from the start
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// RequestAccess decides req, records the decision and, when allowed, commits
// the grant before the door link sees it.
func (s *Service) RequestAccess(ctx context.Context, req doorman.AccessRequest) (*doorman.AccessResult, error) {
	start := time.Now()
	tracking, err := validate(req)
	if err != nil {
		return nil, err
	}
	in, err := s.load(ctx, req, tracking)
	if err != nil {
		return nil, err
	}
	decision := policy.Decide(*in)

	limits := s.limits.WithDefaults()
	rec := &doorman.AccessRecord{
		Decision:     decision,
		BuildingID:   in.Door.BuildingID,
		DoorID:       in.Door.ID,
		CarrierID:    in.Courier.CarrierID,
		CourierID:    in.Courier.ID,
		At:           in.Now,
		CourierLimit: limits.Courier,
		DoorLimit:    limits.Door,
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
	if _, err := s.store.RecordAccess(ctx, rec); refusedAtCommit(err) && rec.Grant != nil {
		// The door was locked down, or a rate limit reached by concurrent
		// requests, between reading and committing.
		rec.Decision = doorman.Deny(doorman.ErrorReason(err), doorman.ErrorMessage(err))
		rec.Grant = nil
		if _, err := s.store.RecordAccess(ctx, rec); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	s.latency.WithLabelValues("decide").Observe(time.Since(start).Seconds())

	result := &doorman.AccessResult{Decision: rec.Decision, Grant: rec.Grant}
	if rec.Grant != nil && s.link != nil {
		result = s.unlock(ctx, in.Door, rec.Grant)
	}
	s.count(result.Decision)
	return result, nil
}

// unlock drives the door for a committed grant and reports what happened.
func (s *Service) unlock(ctx context.Context, door *doorman.Door, g *doorman.Grant) *doorman.AccessResult {
	start := time.Now()
	defer func() { s.latency.WithLabelValues("unlock").Observe(time.Since(start).Seconds()) }()
	// A lockdown may have revoked the grant since it was committed.
	if current, err := s.store.Grant(ctx, g.ID); err != nil || current.RevokedAt != nil {
		return s.unlockFailed(ctx, g, doorman.Deny(doorman.ReasonDoorLockedDown, "The building manager has locked this door down."))
	}
	if err := s.link.Unlock(ctx, door, g); err != nil {
		reason := doorman.ErrorReason(err)
		if reason == "" {
			reason = doorman.ReasonDoorOffline
		}
		return s.unlockFailed(ctx, g, doorman.Deny(reason, doorman.ErrorMessage(err)))
	}
	// The device acknowledged: the grant is spent. (Its unlock_executed
	// event marks it too, for the case this write is lost.)
	at := s.now()
	if err := s.store.MarkGrantUsed(ctx, g.ID, at); err == nil {
		g.UsedAt = &at
	}
	return &doorman.AccessResult{Decision: doorman.Allow(), Grant: g}
}

// unlockFailed records that a committed grant did not open the door, so
// the log does not read as if it did, and answers the courier with d.
func (s *Service) unlockFailed(ctx context.Context, g *doorman.Grant, d doorman.Decision) *doorman.AccessResult {
	e := &doorman.AuditEntry{Action: doorman.ActionUnlockFailed, BuildingID: g.BuildingID, DoorID: g.DoorID,
		CarrierID: g.CarrierID, CourierID: g.CourierID, GrantID: g.ID, ParcelIDs: g.ParcelIDs,
		Reason: d.Reason, Detail: d.Detail, At: s.now()}
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("access: could not record a failed unlock", "grant", g.ID, "err", err)
	}
	return &doorman.AccessResult{Decision: d, Grant: g}
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

// refusedAtCommit reports whether the store refused a grant for a reason
// the courier should hear as a denial.
func refusedAtCommit(err error) bool {
	if doorman.ErrorCode(err) != doorman.ECONFLICT {
		return false
	}
	r := doorman.ErrorReason(err)
	return r == doorman.ReasonDoorLockedDown || r == doorman.ReasonRateLimited
}
