package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSummarise: nearest-rank quantiles of a known list.
func TestSummarise(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, out of order
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := Summarise(ds)
	if got.P50 != 50 || got.P95 != 95 || got.P99 != 99 || got.Max != 100 || got.Mean != 50.5 {
		t.Fatalf("summary of 1..100 ms: %+v", got)
	}
	if (Summarise(nil) != Latency{}) {
		t.Fatal("an empty summary is not zero")
	}
}

// TestOpenLoopCountsFromDue: in an open loop a slow answer does not hold
// back later arrivals, and latency counts from when a request was due:
// with every request taking 40 ms at 200 arrivals/s, about 200 requests
// go out in a second, all at ≥ 40 ms; with at most 2 unanswered, the
// others are recorded as overload, not sent late.
func TestOpenLoopCountsFromDue(t *testing.T) {
	slow := func(ctx context.Context, i int) string { time.Sleep(40 * time.Millisecond); return "" }
	now := time.Now()
	rec := NewRecorder(now)
	Open(context.Background(), 200, 1000, Window{From: now, Until: now.Add(time.Second)}, rec, slow)
	res := rec.Result()
	if res.OK < 150 || res.OK > 201 || res.Failed != 0 {
		t.Fatalf("open loop at 200/s for 1 s: %d ok, %d failed", res.OK, res.Failed)
	}
	if res.Latency.P50 < 40 {
		t.Fatalf("p50 %.1f ms below the 40 ms each request takes", res.Latency.P50)
	}

	now = time.Now()
	rec = NewRecorder(now)
	Open(context.Background(), 200, 2, Window{From: now, Until: now.Add(500 * time.Millisecond)}, rec, slow)
	res = rec.Result()
	if res.Errors[ReasonOverload] < 50 || res.OK > 40 {
		t.Fatalf("with 2 unanswered at most: %d ok, errors %v", res.OK, res.Errors)
	}
}

// TestClosedLoopWarmUp: a closed loop keeps its workers busy and records
// only what started inside the window, with failures by reason.
func TestClosedLoopWarmUp(t *testing.T) {
	start := time.Now()
	win := Window{From: start.Add(200 * time.Millisecond), Until: start.Add(700 * time.Millisecond)}
	rec := NewRecorder(win.From)
	Closed(context.Background(), 4, win, rec, func(ctx context.Context, i int) string {
		time.Sleep(10 * time.Millisecond)
		if i%10 == 0 {
			return "rate_limited"
		}
		return ""
	})
	res := rec.Result()
	total := res.OK + res.Failed
	// 4 workers × 500 ms / 10 ms ≈ 200; the 200 ms warm-up is not counted.
	if total < 100 || total > 210 || res.Errors["rate_limited"] == 0 {
		t.Fatalf("closed loop: %d ok, %v", res.OK, res.Errors)
	}
	if len(res.Seconds) == 0 || res.Seconds[0].OK == 0 {
		t.Fatalf("per-second figures: %+v", res.Seconds)
	}
}

// TestPlotIsSVG: the plot is well-formed XML with both panels' lines.
func TestPlotIsSVG(t *testing.T) {
	var b bytes.Buffer
	secs := []Second{{OK: 100, P50: 1, P99: 5}, {OK: 120, P50: 1.2, P99: 7}, {OK: 90, P50: 2, P99: 30}}
	if err := WritePlot(&b, "bench <&> test", secs); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	lines := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b.String())
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 3 || !strings.Contains(b.String(), "bench &lt;&amp;&gt; test") {
		t.Fatalf("%d lines (want 3: unlocks, p50, p99)", lines)
	}
}

// TestFloor: every step of the floor is measured and the total is their
// sum.
func TestFloor(t *testing.T) {
	dir := t.TempDir()
	f, err := MeasureFloor(context.Background(), dir, dir, 50)
	if err != nil {
		t.Fatal(err)
	}
	if f.NATSRequestReply <= 0 || f.SignVerify <= 0 || f.ServerWrite <= 0 || f.DeviceWrite <= 0 ||
		f.Total != f.NATSRequestReply+f.SignVerify+f.ServerWrite+f.DeviceWrite {
		t.Fatalf("floor: %+v", f)
	}
}
