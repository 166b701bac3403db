package storetest

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/doorman-dev/doorman"
)

func testPages(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		var want []string
		for i := range 7 {
			c := &doorman.Carrier{Name: fmt.Sprintf("Carrier %d", i)}
			must(t, s.CreateCarrier(ctx, c))
			want = append(want, c.ID)
		}
		var got []string
		after, pages := "", 0
		for {
			list, next, err := s.ListCarriers(ctx, doorman.Page{After: after, Limit: 3})
			must(t, err)
			pages++
			if len(list) > 3 {
				t.Fatalf("page of %d with limit 3", len(list))
			}
			for _, c := range list {
				got = append(got, c.ID)
			}
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			after = next
		}
		equal(t, "carriers over all pages", got, want)
		equal(t, "pages", pages, 3)

		// An exact multiple of the limit ends without an empty page.
		list, next, err := s.ListCarriers(ctx, doorman.Page{Limit: 7})
		must(t, err)
		if len(list) != 7 || next != "" {
			t.Fatalf("limit 7 of 7: %d items, next %q", len(list), next)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		f := newFixture(t, open)
		units := make([]*doorman.Unit, doorman.MaxPageLimit+1)
		for i := range units {
			units[i] = &doorman.Unit{BuildingID: f.building.ID, Label: fmt.Sprintf("U%04d", i)}
		}
		must(t, f.s.CreateUnits(f.ctx, units))
		list, next, err := f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{Limit: 10 * doorman.MaxPageLimit})
		must(t, err)
		if len(list) != doorman.MaxPageLimit || next == "" {
			t.Fatalf("over-limit page: %d items (next %q), want %d and a cursor", len(list), next, doorman.MaxPageLimit)
		}
		list, _, err = f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{})
		must(t, err)
		equal(t, "default page size", len(list), doorman.DefaultPageLimit)
		list, _, err = f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{Limit: -5})
		must(t, err)
		equal(t, "negative limit page size", len(list), doorman.DefaultPageLimit)
	})

	t.Run("BadCursor", func(t *testing.T) {
		f := newFixture(t, open)
		_, unitCursor, err := f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{Limit: 1})
		must(t, err)
		f.newUnit(t, f.building.ID, "5C")
		_, unitCursor, err = f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{Limit: 1})
		must(t, err)
		if unitCursor == "" {
			t.Fatal("no cursor after a full page")
		}
		for name, cursor := range map[string]string{
			"garbage":           "!!not-base64!!",
			"raw ID":            f.building.ID,
			"other kind":        unitCursor,
			"injection":         base64.RawURLEncoding.EncodeToString([]byte("bld_' OR '1'='1")),
			"empty after b64":   base64.RawURLEncoding.EncodeToString([]byte("bld_")),
			"other prefix long": base64.RawURLEncoding.EncodeToString([]byte(doorman.NewID(doorman.PrefixUnit))),
		} {
			_, _, err := f.s.ListBuildings(f.ctx, nil, doorman.Page{After: cursor})
			if doorman.ErrorCode(err) != doorman.EINVALID {
				t.Errorf("ListBuildings with a %s cursor: %v, want EINVALID", name, err)
			}
		}
		for name, list := range map[string]func(string) error{
			"ListUnits": func(c string) error {
				_, _, err := f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{After: c})
				return err
			},
			"ListResidents": func(c string) error {
				_, _, err := f.s.ListResidents(f.ctx, f.building.ID, doorman.Page{After: c})
				return err
			},
			"ListDoors": func(c string) error {
				_, _, err := f.s.ListDoors(f.ctx, f.building.ID, doorman.Page{After: c})
				return err
			},
			"ListCarriers": func(c string) error { _, _, err := f.s.ListCarriers(f.ctx, doorman.Page{After: c}); return err },
			"ListCouriers": func(c string) error {
				_, _, err := f.s.ListCouriers(f.ctx, f.carrier.ID, doorman.Page{After: c})
				return err
			},
			"ListParcels": func(c string) error {
				_, _, err := f.s.ListParcels(f.ctx, doorman.ParcelFilter{}, doorman.Page{After: c})
				return err
			},
			"ListAudit": func(c string) error {
				_, _, err := f.s.ListAudit(f.ctx, doorman.AuditFilter{}, doorman.Page{After: c})
				return err
			},
			"ListCredentials": func(c string) error {
				_, _, err := f.s.ListCredentials(f.ctx, "carrier", "x", doorman.Page{After: c})
				return err
			},
			"CarrierBuildings": func(c string) error {
				_, _, err := f.s.CarrierBuildings(f.ctx, f.carrier.ID, doorman.Page{After: c})
				return err
			},
		} {
			if err := list("%%%"); doorman.ErrorCode(err) != doorman.EINVALID {
				t.Errorf("%s with a bad cursor: %v, want EINVALID", name, err)
			}
		}
		// A cursor of the right kind works, also for an ID that is gone.
		list, _, err := f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{After: unitCursor})
		must(t, err)
		equal(t, "second page of units", len(list), 1)
	})

	t.Run("AuditNewestFirst", func(t *testing.T) {
		f := newFixture(t, open)
		for i := range 5 {
			must(t, f.s.AppendAudit(f.ctx, &doorman.AuditEntry{Action: "test.page", BuildingID: f.building.ID, Detail: fmt.Sprint(i)}))
		}
		all := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		var got []*doorman.AuditEntry
		after := ""
		for {
			list, next, err := f.s.ListAudit(f.ctx, doorman.AuditFilter{Chain: f.building.ID}, doorman.Page{After: after, Limit: 2})
			must(t, err)
			got = append(got, list...)
			if next == "" {
				break
			}
			after = next
		}
		equal(t, "audit over all pages", got, all)
	})
}
