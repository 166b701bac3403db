package http

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// countCarriers counts carriers through the store.
func (f *fixture) countCarriers() int {
	f.t.Helper()
	items, _, err := f.store.ListCarriers(context.Background(), doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(items)
}

func TestBadJSON(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[pOperator]
	before := f.countCarriers()
	for _, tc := range []struct {
		name   string
		body   any
		ct     string
		status int
	}{
		{"truncated", `{"name":`, "", 400},
		{"not JSON", `name=x`, "", 400},
		{"trailing garbage", `{"name":"a"} {"name":"b"}`, "", 400},
		{"array", `[{"name":"a"}]`, "", 422},
		{"wrong type", `{"name":5}`, "", 422},
		{"unknown field", `{"name":"Evil","role":"operator"}`, "", 422},
		{"case-folded field", `{"Name":"Evil"}`, "", 422},
		{"empty body", ``, "", 400},
		{"empty name", `{"name":""}`, "", 422},
		{"other content type", `{"name":"a"}`, "application/xml", 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.with(t)
			p := f.expectProblem(tc.status, doorman.EINVALID, request{Method: "POST", Path: "/v1/carriers", Token: op, Body: tc.body, ContentType: tc.ct})
			if tc.status != 422 && strings.Contains(string(mustJSON(t, p)), "name") {
				t.Fatal("problem echoes the body")
			}
		})
	}
	if n := f.countCarriers(); n != before {
		t.Fatalf("carriers %d, want %d: a bad request wrote", n, before)
	}

	// The unknown field is named.
	p := f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/carriers", Token: op, Body: `{"name":"x","role":"operator"}`})
	if len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Message+p.Errors[0].Location, "role") {
		t.Fatalf("unknown field not reported: %+v", p.Errors)
	}
	// Unknown fields are refused in nested objects too.
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: "/v1/buildings/" + f.buildingA.ID, Token: op,
		Body: `{"delivery_hours":{"monday":[{"start":"08:00","end":"20:00","evil":true}]}}`})
}

func TestOversizedBody(t *testing.T) {
	f := newFixture(t)
	before := f.countCarriers()
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	p := f.expectProblem(413, doorman.ETOOLARGE, request{Method: "POST", Path: "/v1/carriers", Token: f.tokens[pOperator], Body: big})
	if strings.Contains(p.Detail, "aaaa") {
		t.Fatal("problem echoes the body")
	}
	// The same with an Idempotency-Key, which reads the body first.
	f.expectProblem(413, doorman.ETOOLARGE, request{Method: "POST", Path: "/v1/carriers", Token: f.tokens[pOperator], Body: big,
		Header: map[string]string{"Idempotency-Key": "big"}})
	if n := f.countCarriers(); n != before {
		t.Fatal("an oversized request wrote")
	}

	// A manifest may be larger than 1 MiB.
	items := make([]map[string]any, 0, 1000)
	for i := 0; i < 1000; i++ {
		items = append(items, map[string]any{"tracking_number": fmt.Sprintf("BIG-%04d", i), "building_id": f.buildingA.ID, "unit": "4B"})
	}
	body := string(mustJSON(t, map[string]any{"parcels": items}))
	body = strings.Replace(body, "[", "["+strings.Repeat(" ", 1<<20), 1) // pad past 1 MiB
	res := f.must(200, request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/manifests", Token: f.tokens[pCarrierX], Body: body})
	if m := decode[app.ManifestResult](t, res); m.Created != 1000 {
		t.Fatalf("created %d", m.Created)
	}
	// But not larger than 4 MiB.
	f.expectProblem(413, doorman.ETOOLARGE, request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/manifests", Token: f.tokens[pCarrierX],
		Body: strings.Replace(body, "[", "["+strings.Repeat(" ", 4<<20), 1)})
	// Nor carry more than 1000 parcels.
	items = append(items, map[string]any{"tracking_number": "ONE-TOO-MANY", "building_id": f.buildingA.ID, "unit": "4B"})
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/manifests", Token: f.tokens[pCarrierX],
		Body: map[string]any{"parcels": items}})
	if _, err := f.store.ParcelByTracking(ctxBG, f.carrierX.ID, "ONE-TOO-MANY"); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("oversized manifest wrote: %v", err)
	}
}

func TestBadTimezone(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[pOperator]
	for _, tz := range []string{"Mars/Olympus", "Local", "", "../../etc/passwd", "Europe/Berlin\x00"} {
		t.Run(tz, func(t *testing.T) {
			f := f.with(t)
			f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/buildings", Token: op,
				Body: map[string]any{"name": "X", "address": "Y", "timezone": tz}})
			f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: "/v1/buildings/" + f.buildingA.ID, Token: f.tokens[pManagerA],
				Body: map[string]any{"name": "Renamed", "timezone": tz}})
		})
	}
	b, err := f.store.Building(ctxBG, f.buildingA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Timezone != "Europe/Berlin" || b.Name != f.buildingA.Name {
		t.Fatalf("a refused update wrote: %+v", b)
	}
	all, _, _ := f.store.ListBuildings(ctxBG, nil, doorman.Page{Limit: 100})
	if len(all) != 2 {
		t.Fatalf("%d buildings, want 2", len(all))
	}

	// Bad delivery windows are refused as well.
	for _, w := range []map[string]any{{"start": "20:00", "end": "08:00"}, {"start": "8:00", "end": "20:00"}, {"start": "08:00", "end": "24:01"}} {
		f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: "/v1/buildings/" + f.buildingA.ID, Token: op,
			Body: map[string]any{"delivery_hours": map[string]any{"monday": []any{w}}}})
	}
}

func TestBuildingPatchNull(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID
	m := f.tokens[pManagerA]
	b := decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m,
		Body: map[string]any{"delivery_hours": map[string]any{"monday": []any{map[string]any{"start": "08:00", "end": "20:00"}}}}}))
	if b.DeliveryHours == nil || len(b.DeliveryHours.Monday) != 1 {
		t.Fatalf("hours not set: %+v", b.DeliveryHours)
	}
	b = decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: `{"name":"Renamed"}`}))
	if b.DeliveryHours == nil || b.Name != "Renamed" {
		t.Fatalf("absent field changed the hours: %+v", b)
	}
	b = decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: `{"delivery_hours":null}`}))
	if b.DeliveryHours != nil {
		t.Fatalf("null did not clear the hours: %+v", b.DeliveryHours)
	}
	// Doors: give a position, then forget it.
	dp := path + "/doors/" + f.doorA2.ID
	d := decode[*doorman.Door](t, f.must(200, request{Method: "PATCH", Path: dp, Token: m, Body: `{"latitude":52.5,"longitude":13.4}`}))
	if !d.HasPosition() {
		t.Fatal("position not set")
	}
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: dp, Token: m, Body: `{"latitude":null}`})
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: dp, Token: m, Body: `{"latitude":91}`})
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: dp, Token: m, Body: `{"pulse_millis":20}`})
	d = decode[*doorman.Door](t, f.must(200, request{Method: "PATCH", Path: dp, Token: m, Body: `{"latitude":null,"longitude":null}`}))
	if d.HasPosition() {
		t.Fatal("position not forgotten")
	}
}

func TestManifestAllOrNothing(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/manifests"
	before := f.countParcels(f.carrierX.ID)
	p := f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: map[string]any{"parcels": []map[string]any{
		{"tracking_number": "OK-1", "building_id": f.buildingA.ID, "unit": "4B"},
		{"tracking_number": "DUP", "building_id": f.buildingA.ID, "unit": "4B"},
		{"tracking_number": "DUP", "building_id": f.buildingA.ID, "unit": "4B"},
		{"tracking_number": "NO-UNIT", "building_id": f.buildingA.ID, "unit": "99Z"},
		{"tracking_number": "FOREIGN", "building_id": doorman.NewID(doorman.PrefixBuilding), "unit": "4B"},
		{"tracking_number": "NO-COURIER", "building_id": f.buildingA.ID, "unit": "4B", "courier_external_id": "cy-1"},
	}}})
	bad := map[int]bool{}
	for _, it := range p.Errors {
		if it.Index == nil || !strings.HasPrefix(it.Location, "body.parcels[") || it.Message == "" {
			t.Fatalf("item error without index/location/message: %+v", it)
		}
		bad[*it.Index] = true
	}
	for _, i := range []int{3, 4, 5} {
		if !bad[i] {
			t.Errorf("item %d not reported: %+v", i, p.Errors)
		}
	}
	if !bad[1] && !bad[2] {
		t.Errorf("duplicate tracking number not reported: %+v", p.Errors)
	}
	if bad[0] {
		t.Errorf("good item reported: %+v", p.Errors)
	}
	if n := f.countParcels(f.carrierX.ID); n != before {
		t.Fatalf("parcels %d, want %d: a rejected manifest wrote", n, before)
	}

	// A schema violation in one item is refused before the store.
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: map[string]any{"parcels": []map[string]any{
		{"tracking_number": "OK-1", "building_id": f.buildingA.ID, "unit": "4B", "status": "stolen"}}}})
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: `{"parcels":[]}`})
}

func TestUnitCSVImport(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID + "/units/import"
	m := f.tokens[pManagerA]
	before := f.countUnits(f.buildingA.ID)

	csv := func(body string) request {
		return request{Method: "POST", Path: path, Token: m, ContentType: "text/csv", Body: body}
	}
	for _, tc := range []struct {
		name string
		body string
		rows []int // lines reported, when the problem lists rows
	}{
		{"empty", "", nil},
		{"header only", "label,floor\n", nil},
		{"wrong header", "unit,level\n1A,1\n", []int{1}},
		{"bad rows", "label,floor\n1A,1\n,2\n1A,3\n2A,2,extra\n" + strings.Repeat("X", 40) + ",4\n3A,3\n4B,4\n", []int{3, 4, 5, 6, 8}},
		{"bare quote", "label,floor\n1A,1\n1\"B,1\n2A,2\n", []int{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.with(t)
			status := 422
			if tc.body == "" {
				status = 400 // huma: a body is required
			}
			p := f.expectProblem(status, doorman.EINVALID, csv(tc.body))
			var got []int
			for _, it := range p.Errors {
				if it.Row > 0 {
					got = append(got, it.Row)
				}
			}
			if tc.rows != nil && fmt.Sprint(got) != fmt.Sprint(tc.rows) {
				t.Fatalf("rows reported %v, want %v: %+v", got, tc.rows, p.Errors)
			}
		})
	}
	if n := f.countUnits(f.buildingA.ID); n != before {
		t.Fatalf("units %d, want %d: a rejected import wrote", n, before)
	}

	f.expectProblem(415, doorman.EINVALID, request{Method: "POST", Path: path, Token: m, ContentType: "application/json", Body: "label,floor\n9A,9\n"})

	res := f.must(201, csv("\ufefflabel,floor\r\n1A,1\r\n1B,1\r\n\"2, rear\",2\r\n"))
	if got := decode[ImportedUnits](t, res); got.Imported != 3 || got.Units[2].Label != "2, rear" {
		t.Fatalf("imported %+v", got)
	}
	if n := f.countUnits(f.buildingA.ID); n != before+3 {
		t.Fatalf("units %d, want %d", n, before+3)
	}
}

func TestForeignIDs(t *testing.T) {
	f := newFixture(t)
	mA := f.tokens[pManagerA]
	bA := "/v1/buildings/" + f.buildingA.ID

	// A unit of building B cannot be given to a resident of building A.
	p := f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: bA + "/residents", Token: mA,
		Body: map[string]any{"unit_id": f.unitB.ID, "name": "R", "email": "r@example.com"}})
	if len(p.Errors) != 1 || p.Errors[0].Location != "body.unit_id" {
		t.Fatalf("errors %+v", p.Errors)
	}
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: bA + "/residents", Token: mA,
		Body: map[string]any{"unit_id": "'; DROP TABLE units; --", "name": "R", "email": "r@example.com"}})
	res, _, _ := f.store.ListResidents(ctxBG, f.buildingA.ID, doorman.Page{Limit: 10})
	if len(res) != 0 {
		t.Fatal("resident written")
	}

	// IDs of the wrong kind, unknown IDs and garbage in paths are 404.
	for _, path := range []string{
		"/v1/buildings/" + f.carrierX.ID,
		"/v1/buildings/" + doorman.NewID(doorman.PrefixBuilding),
		"/v1/buildings/%00",
		bA + "/doors/" + f.doorB.ID,
		bA + "/doors/" + f.unitA.ID,
		bA + "/units/" + f.unitB.ID,
	} {
		f.expectProblem(404, doorman.ENOTFOUND, request{Method: "GET", Path: path, Token: f.tokens[pOperator]})
	}
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "PUT", Path: bA + "/carriers/" + doorman.NewID(doorman.PrefixCarrier), Token: mA})

	// A courier naming a door that does not exist gets a clear 422.
	for _, door := range []string{doorman.NewID(doorman.PrefixDoor), "dor_x", f.unitA.ID} {
		f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
			Body: map[string]any{"door_id": door, "tracking_numbers": []string{"TRK-X-1"}}})
	}
	// Assigning a parcel to another carrier's courier is refused.
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: "/v1/carriers/" + f.carrierX.ID + "/parcels/TRK-X-1", Token: f.tokens[pCarrierX],
		Body: map[string]any{"courier_external_id": "cy-1"}})
}

func TestBadQuery(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[pOperator]
	for _, q := range []string{"limit=0", "limit=501", "limit=abc", "unknown=1", "cursor=" + strings.Repeat("x", 200)} {
		f.expectProblem(422, doorman.EINVALID, request{Method: "GET", Path: "/v1/carriers?" + q, Token: op})
	}
	f.expectProblem(422, doorman.EINVALID, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID + "/parcels?status=lost", Token: op})
	f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID + "/parcels?status=out_for_delivery", Token: op})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMalformedChunkedBody sends bodies whose chunked framing is broken, over
// a raw connection because Go's client will not: every kind of body (JSON,
// JSON under an Idempotency-Key, which is read before huma reads it, and raw
// CSV) is refused as the client's fault, with nothing written.
func TestMalformedChunkedBody(t *testing.T) {
	f := newFixture(t)
	base := f.listen()
	op, mA := f.tokens[pOperator], f.tokens[pManagerA]
	carriers, units := f.countCarriers(), f.countUnits(f.buildingA.ID)
	const json, csv = "application/json", "text/csv"
	idem := map[string]string{"Idempotency-Key": "chunked-1"}
	building := "/v1/buildings/" + f.buildingA.ID
	for _, tc := range []struct {
		name                    string
		method, path, token, ct string
		header                  map[string]string
		body                    string
		truncated               bool // the client closes its side after body
	}{
		{"bad chunk size", "POST", "/v1/carriers", op, json, nil, "zz\r\n", false},
		{"bad chunk size, idempotent", "POST", "/v1/carriers", op, json, idem, "zz\r\n", false},
		{"bad chunk size, public", "POST", "/v1/sessions", "", json, nil, "zz\r\n", false},
		{"bad chunk size, patch", "PATCH", building, mA, json, nil, "zz\r\n", false},
		{"bad chunk size, CSV", "POST", building + "/units/import", mA, csv, nil, "zz\r\n", false},
		{"chunk without its end", "POST", "/v1/carriers", op, json, nil, "10\r\n{\"name\":\"Cut\"}xxxx", false},
		{"body cut short", "POST", "/v1/carriers", op, json, nil, "20\r\n{\"name\":", true},
		{"body cut short, CSV", "POST", building + "/units/import", mA, csv, nil, "40\r\nlabel,floor\n9Z,9\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := chunkedRequest(tc.method, tc.path, tc.token, tc.ct, tc.header, tc.body)
			res := rawRequest(t, base, raw, tc.truncated)
			if res.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", res.Status, res.Body)
			}
			p := res.Problem(t)
			if p.Code != doorman.EINVALID || !strings.Contains(p.Detail, "could not be read") {
				t.Fatalf("problem %+v, want code invalid and a detail saying the body could not be read", p)
			}
		})
	}
	if n := f.countCarriers(); n != carriers {
		t.Fatalf("carriers %d, want %d: a malformed body wrote", n, carriers)
	}
	if n := f.countUnits(f.buildingA.ID); n != units {
		t.Fatalf("units %d, want %d: a malformed body wrote", n, units)
	}
	if b, err := f.store.Building(ctxBG, f.buildingA.ID); err != nil || b.Name != f.buildingA.Name {
		t.Fatalf("building %+v, %v: a malformed body wrote", b, err)
	}

	// Well-formed chunked bodies of each kind still work, so the refusals
	// above are about the framing.
	good := rawRequest(t, base, chunkedRequest("POST", "/v1/carriers", op, json, idem, chunk(`{"name":"Chunked"}`)), false)
	if good.Status != http.StatusCreated {
		t.Fatalf("well-formed chunked JSON: status %d; body %s", good.Status, good.Body)
	}
	good = rawRequest(t, base, chunkedRequest("POST", building+"/units/import", mA, csv, nil, chunk("label,floor\n9Z,9\n")), false)
	if good.Status != http.StatusCreated {
		t.Fatalf("well-formed chunked CSV: status %d; body %s", good.Status, good.Body)
	}
}
