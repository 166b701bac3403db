package doorman_test

import (
	"testing"

	"github.com/doorman-dev/doorman"
)

func TestWeeklyHoursWidens(t *testing.T) {
	w := func(start, end string) []doorman.Window { return []doorman.Window{{Start: start, End: end}} }
	weekdays := &doorman.WeeklyHours{Monday: w("08:00", "18:00"), Tuesday: w("08:00", "18:00")}
	for _, c := range []struct {
		name     string
		old, new *doorman.WeeklyHours
		want     bool
	}{
		{"any hour to any hour", nil, nil, false},
		{"any hour to some hours", nil, weekdays, false},
		{"some hours to any hour", weekdays, nil, true},
		{"the same hours", weekdays, &doorman.WeeklyHours{Monday: w("08:00", "18:00"), Tuesday: w("08:00", "18:00")}, false},
		{"a later end", weekdays, &doorman.WeeklyHours{Monday: w("08:00", "18:01"), Tuesday: w("08:00", "18:00")}, true},
		{"an earlier start", weekdays, &doorman.WeeklyHours{Monday: w("07:59", "18:00"), Tuesday: w("08:00", "18:00")}, true},
		{"a new day", weekdays, &doorman.WeeklyHours{Monday: w("08:00", "18:00"), Tuesday: w("08:00", "18:00"), Sunday: w("10:00", "11:00")}, true},
		{"narrower", weekdays, &doorman.WeeklyHours{Monday: w("09:00", "17:00")}, false},
		{"moved, not wider", weekdays, &doorman.WeeklyHours{Monday: w("08:00", "12:00"), Tuesday: w("08:00", "18:00"), Wednesday: nil}, false},
		{"moved to another time", weekdays, &doorman.WeeklyHours{Monday: w("18:00", "20:00")}, true},
		{"split windows inside", weekdays, &doorman.WeeklyHours{Monday: []doorman.Window{{Start: "08:00", End: "10:00"}, {Start: "12:00", End: "18:00"}}}, false},
		{"no hours to a window", &doorman.WeeklyHours{}, &doorman.WeeklyHours{Friday: w("00:00", "24:00")}, true},
		{"a whole week to any hour", allWeek(), nil, false},
	} {
		if got := c.new.Widens(c.old); got != c.want {
			t.Errorf("%s: Widens = %v, want %v", c.name, got, c.want)
		}
	}
}

// allWeek is every hour of every day, written out.
func allWeek() *doorman.WeeklyHours {
	d := []doorman.Window{{Start: "00:00", End: "24:00"}}
	return &doorman.WeeklyHours{Monday: d, Tuesday: d, Wednesday: d, Thursday: d, Friday: d, Saturday: d, Sunday: d}
}
