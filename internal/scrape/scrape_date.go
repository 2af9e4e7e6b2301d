package scrape

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/itlightning/dateparse"
)

// dateLayouts are the layouts parseDate tries before the general parser,
// most specific first: what listing pages and <time datetime> attributes
// write. Day-first layouts with dots are the European way, which
// dateparse would read month first.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 January 2006",
	"2 Jan 2006",
	"January 2, 2006",
	"Jan 2, 2006",
	"Jan. 2, 2006",
	"Monday, 2 January 2006",
	"Monday, January 2, 2006",
	"2 January 2006 15:04",
	"2 January 2006, 15:04",
	"January 2, 2006 15:04",
	"January 2, 2006 3:04 PM",
	"Jan 2, 2006 3:04 PM",
	"02.01.2006 15:04",
	"02.01.2006",
	"2.1.2006",
	"2. January 2006",
}

// datePrefix matches words that introduce a date on listing pages
// ("Published 3 March 2025", "Posted on: ..."), which are dropped before
// parsing.
var datePrefix = regexp.MustCompile(`(?i)^\s*(published|posted|updated|last updated|date|on|am|le|dated)\b[\s:]*(on\b)?[\s:]*`)

// ordinalSuffix matches the English ordinal of a day ("3rd", "21st").
var ordinalSuffix = regexp.MustCompile(`\b([0-9]{1,2})(st|nd|rd|th)\b`)

// parseDate reads a date as a listing page or an API writes it: with
// layout (a Go time layout) when one is given and it fits, else
// leniently: RFC 3339 and its relatives, RFC 1123, "2 January 2006",
// "Jan 2, 2006", "2006-01-02", "02.01.2006" and whatever
// github.com/itlightning/dateparse reads (month first when ambiguous, as
// it does: give a layout for day-first slashes). A leading "Published",
// "Posted on" and the like, and English ordinals ("3rd"), are ignored.
// Dates without a zone are taken as UTC. Text that is not a date as a
// whole is searched for one written out in it ("... — 12 April 2025").
// The result is UTC, or zero when nothing fits; relative dates ("2 hours
// ago") are not read.
func parseDate(s, layout string) time.Time {
	if t := parseWholeDate(s, layout); !t.IsZero() {
		return t
	}
	// A date inside other text: "Spring fair raises a record sum — 12
	// April 2025".
	s = squash(s)
	if len(s) > 1000 {
		return time.Time{}
	}
	for _, re := range embeddedDates {
		if m := re.FindString(s); m != "" {
			if t := parseWholeDate(m, ""); !t.IsZero() {
				return t
			}
		}
	}
	return time.Time{}
}

// embeddedDates find a date written out inside longer text, most precise
// first.
var embeddedDates = func() []*regexp.Regexp {
	const month = `(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?`
	return []*regexp.Regexp{
		regexp.MustCompile(`\b[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?\b`),
		regexp.MustCompile(`(?i)\b[0-9]{1,2}(?:st|nd|rd|th)?\.? ` + month + `,? [0-9]{4}\b`),
		regexp.MustCompile(`(?i)\b` + month + ` [0-9]{1,2}(?:st|nd|rd|th)?,? [0-9]{4}\b`),
		regexp.MustCompile(`\b[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}\b`),
	}
}()

// parseWholeDate is parseDate for text that is a date and nothing else.
func parseWholeDate(s, layout string) time.Time {
	s = squash(s)
	if s == "" || len(s) > 100 || !strings.ContainsAny(s, "0123456789") {
		return time.Time{}
	}
	if layout != "" {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	for _, cand := range []string{s, ordinalSuffix.ReplaceAllString(datePrefix.ReplaceAllString(s, ""), "$1")} {
		if cand == "" {
			continue
		}
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, cand); err == nil {
				return t.UTC()
			}
		}
		if t, err := dateparse.ParseIn(cand, time.UTC, dateparse.RetryAmbiguousDateWithSwap(true), dateparse.SimpleErrorMessages(true)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// unixDate reads a Unix time in seconds or, when it is too large to be
// seconds of a plausible date, milliseconds. ok is false for anything
// else.
func unixDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f >= 1e15 {
		return time.Time{}, false
	}
	if f >= 1e11 { // past the year 5138 in seconds: milliseconds
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// looksLikeDate reports whether text is a date rather than a headline: a
// listing's date link ("3 March 2025") must not pass for an article title.
func looksLikeDate(text string) bool {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 40 || len(strings.Fields(text)) > 6 {
		return false
	}
	return !parseWholeDate(text, "").IsZero()
}
