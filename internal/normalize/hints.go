package normalize

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

// Hints are what a feed says about how often it is worth fetching. They are
// advice for a polite client: a caller uses them as a lower bound on its
// refresh interval and bounds them itself, since a feed's own numbers can be
// absurd (a ttl of a year). Invalid values are ignored, so a zero Hints
// means the feed gave none that can be used.
type Hints struct {
	// TTL is RSS <ttl>: how long the channel may be cached. Zero when
	// absent or not a positive whole number of minutes.
	TTL time.Duration
	// SkipHours are the hours of the day (0-23, GMT) of RSS <skipHours>
	// in which the feed should not be fetched, ascending and without
	// repeats. An <hour>24</hour>, which the original UserLand text
	// allowed for midnight, is read as 0.
	SkipHours []int
	// SkipDays are the days of RSS <skipDays> (GMT) on which the feed
	// should not be fetched, in week order from Sunday and without
	// repeats. Day names are matched without case.
	SkipDays []time.Weekday
	// UpdatePeriod is the syndication module's sy:updatePeriod (hourly,
	// daily, weekly, monthly as 30 days, yearly as 365 days) divided by
	// sy:updateFrequency (a positive whole number; 1 when absent or
	// invalid). A feed giving only a frequency is updated that many times
	// a day, as the module defines. Zero when the feed gives neither or
	// an unknown period.
	UpdatePeriod time.Duration
}

// IsZero reports whether the feed gave no usable hint.
func (h Hints) IsZero() bool {
	return h.TTL == 0 && len(h.SkipHours) == 0 && len(h.SkipDays) == 0 && h.UpdatePeriod == 0
}

// maxHint caps TTL and UpdatePeriod, so that a feed's "ttl" of 10^15
// minutes cannot overflow a time.Duration. A caller bounds hints far more
// tightly anyway.
const maxHint = 10 * 365 * 24 * time.Hour

// feedHints reads the hints of a parsed feed: an RSS channel's <ttl>,
// <skipHours>, <skipDays> and sy: elements, an Atom feed's sy: elements. JSON
// Feed has no such thing.
func feedHints(orig any) Hints {
	switch f := orig.(type) {
	case *rss.Feed:
		return Hints{
			TTL:          parseTTL(f.TTL),
			SkipHours:    parseSkipHours(f.SkipHours),
			SkipDays:     parseSkipDays(f.SkipDays),
			UpdatePeriod: syUpdatePeriod(f.Extensions),
		}
	case *atom.Feed:
		return Hints{UpdatePeriod: syUpdatePeriod(f.Extensions)}
	}
	return Hints{}
}

// parseTTL reads <ttl>, a number of minutes.
func parseTTL(s string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		return maxHint // digits beyond an int64: huge, not invalid
	}
	if err != nil || n <= 0 {
		return 0
	}
	if n > int64(maxHint/time.Minute) {
		return maxHint
	}
	return time.Duration(n) * time.Minute
}

func parseSkipHours(in []string) []int {
	var out []int
	for _, s := range in {
		h, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || h < 0 || h > 24 {
			continue
		}
		if h == 24 {
			h = 0
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday,
	"friday": time.Friday, "saturday": time.Saturday,
}

func parseSkipDays(in []string) []time.Weekday {
	var out []time.Weekday
	for _, s := range in {
		d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]
		if ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

var syPeriods = map[string]time.Duration{
	"hourly":  time.Hour,
	"daily":   24 * time.Hour,
	"weekly":  7 * 24 * time.Hour,
	"monthly": 30 * 24 * time.Hour,
	"yearly":  365 * 24 * time.Hour,
}

// syUpdatePeriod reads the RSS syndication module
// (http://purl.org/rss/1.0/modules/syndication/), which gofeed files under
// the prefix "sy" whatever prefix the feed binds it to.
func syUpdatePeriod(exts ext.Extensions) time.Duration {
	sy := exts["sy"]
	period, hasPeriod := extValue(sy, "updatePeriod")
	freq, hasFreq := extValue(sy, "updateFrequency")
	if !hasPeriod && !hasFreq {
		return 0
	}
	d := 24 * time.Hour // the module's default period
	if hasPeriod {
		var ok bool
		if d, ok = syPeriods[strings.ToLower(period)]; !ok {
			return 0
		}
	}
	if n, err := strconv.ParseInt(freq, 10, 64); err == nil && n > 0 {
		d /= time.Duration(n)
	}
	return min(d, maxHint)
}

// extValue returns the trimmed text of the first element of exts named
// name, matched without case (feeds write "updateperiod" too), and whether
// there is one with text.
func extValue(exts map[string][]ext.Extension, name string) (string, bool) {
	keys := make([]string, 0, len(exts))
	for key := range exts {
		if strings.EqualFold(key, name) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys) // deterministic when a feed spells it two ways
	for _, key := range keys {
		for _, e := range exts[key] {
			if v := strings.TrimSpace(e.Value); v != "" {
				return v, true
			}
		}
	}
	return "", false
}
