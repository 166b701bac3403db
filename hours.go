package doorman

import (
	"fmt"
	"strings"
	"time"
)

// WeeklyHours are the local-time windows in which deliveries are allowed,
// per weekday. A weekday with no windows allows no deliveries that day.
type WeeklyHours struct {
	Monday    []Window `json:"monday,omitempty"`
	Tuesday   []Window `json:"tuesday,omitempty"`
	Wednesday []Window `json:"wednesday,omitempty"`
	Thursday  []Window `json:"thursday,omitempty"`
	Friday    []Window `json:"friday,omitempty"`
	Saturday  []Window `json:"saturday,omitempty"`
	Sunday    []Window `json:"sunday,omitempty"`
}

// Window is a half-open local-time range [Start, End) written "HH:MM".
// End may be "24:00" for the end of the day.
type Window struct {
	Start string `json:"start" example:"08:00"`
	End   string `json:"end" example:"20:00"`
}

// Day returns the windows of a weekday.
func (h *WeeklyHours) Day(d time.Weekday) []Window {
	switch d {
	case time.Monday:
		return h.Monday
	case time.Tuesday:
		return h.Tuesday
	case time.Wednesday:
		return h.Wednesday
	case time.Thursday:
		return h.Thursday
	case time.Friday:
		return h.Friday
	case time.Saturday:
		return h.Saturday
	default:
		return h.Sunday
	}
}

// Validate returns EINVALID if a window is malformed or empty.
func (h *WeeklyHours) Validate() error {
	for d := time.Sunday; d <= time.Saturday; d++ {
		for _, w := range h.Day(d) {
			start, err1 := parseClock(w.Start)
			end, err2 := parseClock(w.End)
			if err1 != nil || err2 != nil {
				return Errorf(EINVALID, "%s: delivery window times must be HH:MM (00:00 to 24:00).", strings.ToLower(d.String()))
			} else if start >= end {
				return Errorf(EINVALID, "%s: delivery window %s-%s must start before it ends.", strings.ToLower(d.String()), w.Start, w.End)
			}
		}
	}
	return nil
}

// Contains reports whether the instant t falls within a window, reading t
// on the wall clock of loc. Because it uses the wall clock, a window of
// 08:00-20:00 stays 08:00-20:00 across daylight-saving changes.
func (h *WeeklyHours) Contains(t time.Time, loc *time.Location) bool {
	local := t.In(loc)
	minute := local.Hour()*60 + local.Minute()
	for _, w := range h.Day(local.Weekday()) {
		start, err1 := parseClock(w.Start)
		end, err2 := parseClock(w.End)
		if err1 == nil && err2 == nil && minute >= start && minute < end {
			return true
		}
	}
	return false
}

// parseClock turns "HH:MM" into minutes since midnight.
func parseClock(s string) (int, error) {
	var hh, mm int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &hh, &mm); err != nil {
		return 0, err
	}
	if hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return hh*60 + mm, nil
}

// ActionBuildingHoursWidened is the audit action written, in the same
// transaction as the change, when a building's delivery hours come to
// allow a time they did not (Widens); its detail holds the old and the
// new hours. Residents are told the new hours (KindHoursNotice).
const ActionBuildingHoursWidened = "building.hours_widened"

// Widens reports whether the hours h allow some time of the week that old
// did not. Nil hours allow any time. This is the one place that decides
// whether residents are told of a change of hours.
func (h *WeeklyHours) Widens(old *WeeklyHours) bool {
	if old == nil {
		return false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		was := minutesOf(old, d)
		now := minutesOf(h, d)
		for m := range now {
			if now[m] && !was[m] {
				return true
			}
		}
	}
	return false
}

// minutesOf returns which minutes of the weekday h allows (nil: all).
func minutesOf(h *WeeklyHours, d time.Weekday) *[24 * 60]bool {
	var out [24 * 60]bool
	if h == nil {
		for m := range out {
			out[m] = true
		}
		return &out
	}
	for _, w := range h.Day(d) {
		start, err1 := parseClock(w.Start)
		end, err2 := parseClock(w.End)
		if err1 != nil || err2 != nil {
			continue
		}
		for m := max(start, 0); m < min(end, len(out)); m++ {
			out[m] = true
		}
	}
	return &out
}
