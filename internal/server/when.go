package server

import (
	"fmt"
	"time"
)

// RelativeWithin is how far from now a time is told as a distance ("3h05m
// ago", "in 12m"); a time farther away is told by its day ("12 Nov 2026"),
// since "1231d ago" makes a person count.
const RelativeWithin = 7 * 24 * time.Hour

// dayLayout is how a time beyond RelativeWithin is told, in UTC like every
// time on the pages.
const dayLayout = "2 Jan 2006"

// When tells a person when t is, seen at now: a past time within
// RelativeWithin as span(distance)+" ago", a future one as "in "+span,
// any other by its day in UTC; "" for a zero t. span writes a distance
// (the pages' human, or a terminal's shorter one): every place that shows
// a time follows this one rule, and the pages' script (status.js: when)
// mirrors it.
func When(now, t time.Time, span func(time.Duration) string) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d >= RelativeWithin || -d >= RelativeWithin:
		return t.UTC().Format(dayLayout)
	case d < 0:
		return "in " + span(-d)
	}
	return span(d) + " ago"
}

// ago says when t was (or will be), as the pages say it: see When.
func ago(now, t time.Time) string { return When(now, t, human) }

// until says when t is due: "due now" once it has come, else as When.
func until(now, t time.Time) string {
	if !t.After(now) {
		return "due now"
	}
	return When(now, t, human)
}

// human writes a distance as the pages do: seconds, minutes, hours and
// minutes under two days, days beyond.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
