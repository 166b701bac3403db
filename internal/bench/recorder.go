package bench

import (
	"slices"
	"sync"
	"time"
)

// Recorder collects the outcome of every request: its latency when it
// succeeded, its reason when it failed, and both per second of the run for
// the plot. It is safe for concurrent use.
type Recorder struct {
	start time.Time

	mu      sync.Mutex
	lat     []time.Duration // successful requests' latencies
	errors  map[string]int
	seconds []Second
}

// Second is what one second of the run saw.
type Second struct {
	// OK and Failed count the requests that finished in this second.
	OK, Failed int
	// P50 and P99 are the latencies of the successful ones, in ms.
	P50, P99 float64

	lat []time.Duration
}

// NewRecorder starts a recorder whose second 0 begins at start.
func NewRecorder(start time.Time) *Recorder {
	return &Recorder{start: start, errors: map[string]int{}}
}

// second returns the slot of the second t falls in, growing the list.
func (r *Recorder) second(t time.Time) *Second {
	i := max(int(t.Sub(r.start)/time.Second), 0)
	for len(r.seconds) <= i {
		r.seconds = append(r.seconds, Second{})
	}
	return &r.seconds[i]
}

// OK records a successful request that took d and finished at end.
func (r *Recorder) OK(end time.Time, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	s := r.second(end)
	s.OK++
	s.lat = append(s.lat, d)
}

// Fail records a request that failed for reason, finishing at end.
func (r *Recorder) Fail(end time.Time, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[reason]++
	r.second(end).Failed++
}

// Counts returns the successes and failures so far.
func (r *Recorder) Counts() (ok, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.errors {
		failed += n
	}
	return len(r.lat), failed
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Summarise returns the latency summary of ds (sorted in place).
func Summarise(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{
		P50: ms(quantile(ds, 0.50)), P95: ms(quantile(ds, 0.95)), P99: ms(quantile(ds, 0.99)),
		Max: ms(ds[len(ds)-1]), Mean: ms(sum / time.Duration(len(ds))),
	}
}

// quantile returns the q-quantile of sorted ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(ds)) + 0.5)
	return ds[min(max(i-1, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Result is what a recorder saw over the run.
type Result struct {
	OK      int            `json:"unlocks"`
	Failed  int            `json:"failed"`
	Errors  map[string]int `json:"errors"`
	Latency Latency        `json:"latency_ms"`
	// Seconds are the per-second figures, for the plot.
	Seconds []Second `json:"-"`
}

// Result summarises what was recorded.
func (r *Recorder) Result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{OK: len(r.lat), Errors: map[string]int{}, Latency: Summarise(slices.Clone(r.lat))}
	for k, n := range r.errors {
		res.Errors[k] = n
		res.Failed += n
	}
	for _, s := range r.seconds {
		if len(s.lat) > 0 {
			slices.Sort(s.lat)
			s.P50, s.P99 = ms(quantile(s.lat, 0.5)), ms(quantile(s.lat, 0.99))
		}
		s.lat = nil
		res.Seconds = append(res.Seconds, s)
	}
	return res
}
