package feed

import "time"

// The dates an item, an article page or a scraped listing gives are judged
// by one rule, whoever reads them: a date before 1995 is a placeholder
// (the Unix epoch and others that broken feeds send), and a date more than
// FutureSlack after now comes from a wrong clock or a template bug. Either
// counts as no date at all: an item without one takes the first-seen time
// the store assigns and then keeps (clamping to now instead would move the
// date on every fetch).

// FutureSlack is how far after now a date may lie and still count: time
// zones written wrongly and clocks a little fast put honest dates up to a
// day ahead.
const FutureSlack = 24 * time.Hour

// earliestDate is the first instant a date counts from.
var earliestDate = time.Date(1995, time.January, 1, 0, 0, 0, 0, time.UTC)

// DateTooEarly reports whether t lies before 1995, as placeholder dates do
// (the zero time among them).
func DateTooEarly(t time.Time) bool { return t.Before(earliestDate) }

// DateTooFarAhead reports whether t lies more than FutureSlack after now.
func DateTooFarAhead(t, now time.Time) bool { return t.After(now.Add(FutureSlack)) }

// SaneDate returns t in UTC, or the zero time when t is zero, too early or
// too far ahead of now.
func SaneDate(t, now time.Time) time.Time {
	if DateTooEarly(t) || DateTooFarAhead(t, now) {
		return time.Time{}
	}
	return t.UTC()
}
