package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// benchDoorsPerBuilding is how many doors each bench building has.
const benchDoorsPerBuilding = 10

// benchWorld is what the bench set up through the API: one carrier, its
// couriers each with a session and a parcel out for delivery to the
// building of one door, and the doors with their enrollment codes.
type benchWorld struct {
	Doors    []benchAgentDoor
	Couriers []benchCourier
}

// benchCourier is one courier of the pool and the door it delivers at.
type benchCourier struct {
	Token, DoorID, Parcel string
}

// benchAPI calls Doorman's API as the bench's operator and carrier.
type benchAPI struct {
	base   string
	client *http.Client
}

// call sends body as JSON (nil: no body) with token and decodes the
// answer into out (nil: discarded). An answer other than want (0: any
// 2xx) is an error carrying the problem's detail.
func (a *benchAPI) call(ctx context.Context, method, path, token string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want && (want != 0 || resp.StatusCode/100 != 2) {
		var p struct{ Detail string }
		_ = json.Unmarshal(data, &p)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, p.Detail)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// parallel runs fn(i) for i in [0, n) on conc goroutines, calling tick
// after each, and returns the first error (the rest still run).
func parallel(n, conc int, tick func(), fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
				if tick != nil {
					tick()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// setUp creates the bench's world through the API as the operator
// (buildings, units, doors, enrollment codes) and as the carrier
// (couriers, a manifest, sessions), as real clients would. The run tag
// keeps names apart from earlier runs on the same deployment.
func (a *benchAPI) setUp(ctx context.Context, operator string, doors, couriers int, tick func()) (*benchWorld, error) {
	tag := fmt.Sprintf("%x", time.Now().UnixNano())
	var carrier struct{ ID string }
	if err := a.call(ctx, "POST", "/v1/carriers", operator, map[string]any{"name": "Bench " + tag}, &carrier, 201); err != nil {
		return nil, err
	}
	var key struct{ Token string }
	if err := a.call(ctx, "POST", "/v1/carriers/"+carrier.ID+"/api-keys", operator, map[string]any{"name": "bench"}, &key, 201); err != nil {
		return nil, err
	}
	const conc = 16
	nb := (doors + benchDoorsPerBuilding - 1) / benchDoorsPerBuilding
	buildings := make([]string, nb)
	err := parallel(nb, conc, tick, func(i int) error {
		var b struct{ ID string }
		err := a.call(ctx, "POST", "/v1/buildings", operator, map[string]any{"name": fmt.Sprintf("Bench %s #%d", tag, i),
			"address": fmt.Sprintf("%d Bench Street", i+1), "timezone": "UTC"}, &b, 201)
		if err == nil {
			err = a.call(ctx, "PUT", "/v1/buildings/"+b.ID+"/notice-period", operator, map[string]any{"seconds": 0}, nil, 204)
		}
		if err == nil {
			err = a.call(ctx, "PUT", "/v1/buildings/"+b.ID+"/carriers/"+carrier.ID, operator, nil, nil, 204)
		}
		if err == nil {
			err = a.call(ctx, "POST", "/v1/buildings/"+b.ID+"/units", operator, map[string]any{"label": "1"}, nil, 201)
		}
		buildings[i] = b.ID
		return err
	})
	if err != nil {
		return nil, err
	}
	w := &benchWorld{Doors: make([]benchAgentDoor, doors), Couriers: make([]benchCourier, couriers)}
	err = parallel(doors, conc, tick, func(i int) error {
		b := buildings[i/benchDoorsPerBuilding]
		var d struct{ ID string }
		err := a.call(ctx, "POST", "/v1/buildings/"+b+"/doors", operator, map[string]any{"name": fmt.Sprintf("Door %d", i)}, &d, 201)
		if err != nil {
			return err
		}
		var e struct{ Code string }
		err = a.call(ctx, "POST", "/v1/buildings/"+b+"/doors/"+d.ID+"/enrollments", operator, map[string]any{}, &e, 201)
		w.Doors[i] = benchAgentDoor{DoorID: d.ID, Code: e.Code}
		return err
	})
	if err != nil {
		return nil, err
	}
	carrierPath := "/v1/carriers/" + carrier.ID
	checked := time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)
	err = parallel(couriers, conc, tick, func(i int) error {
		ext := fmt.Sprintf("bench-%d", i)
		return a.call(ctx, "PUT", carrierPath+"/couriers/"+ext, key.Token,
			map[string]any{"name": "Courier " + ext, "background_check_verified_until": checked}, nil, 0)
	})
	if err != nil {
		return nil, err
	}
	// Courier i delivers one parcel to the building of door i mod doors.
	const perManifest = 1000
	err = parallel((couriers+perManifest-1)/perManifest, 4, nil, func(m int) error {
		var parcels []map[string]any
		for i := m * perManifest; i < min((m+1)*perManifest, couriers); i++ {
			door := i % doors
			tn := fmt.Sprintf("BN%s%07d", strings.ToUpper(tag), i)
			parcels = append(parcels, map[string]any{"tracking_number": tn, "building_id": buildings[door/benchDoorsPerBuilding],
				"unit": "1", "courier_external_id": fmt.Sprintf("bench-%d", i), "status": "out_for_delivery"})
			w.Couriers[i] = benchCourier{DoorID: w.Doors[door].DoorID, Parcel: tn}
		}
		return a.call(ctx, "POST", carrierPath+"/manifests", key.Token, map[string]any{"parcels": parcels}, nil, 0)
	})
	if err != nil {
		return nil, err
	}
	err = parallel(couriers, conc, tick, func(i int) error {
		var s struct{ Token string }
		err := a.call(ctx, "POST", fmt.Sprintf("%s/couriers/bench-%d/sessions", carrierPath, i), key.Token,
			map[string]any{"ttl_seconds": 12 * 3600}, &s, 201)
		w.Couriers[i].Token = s.Token
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// benchSetUpCalls is how many API calls setUp makes, for its progress bar.
func benchSetUpCalls(doors, couriers int) int {
	nb := (doors + benchDoorsPerBuilding - 1) / benchDoorsPerBuilding
	return nb + doors + 2*couriers
}
