package refresh

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
)

const (
	// maxServerWait bounds every wait a server or a feed asks for
	// (Cache-Control, Expires, <ttl>, sy:updatePeriod, skipHours,
	// skipDays, Retry-After): a misconfigured ttl of a year, or a
	// Retry-After in the next century, must not silence a source.
	maxServerWait = 24 * time.Hour
	// minBackoffBase is the smallest first step of a backoff, so that a
	// source scheduled every few seconds does not hammer a failing server.
	minBackoffBase = time.Minute
	// backoffJitter is the relative spread of a backoff step, so that
	// sources failing together (a host going down) do not come back in
	// lockstep.
	backoffJitter = 0.2
)

// backoffStart is the part of a source's normal interval its first
// backoff step waits: a source that fails once (a DNS hiccup, a server
// restarting) is tried again well within its own interval, not after a
// longer wait than if nothing had gone wrong.
const backoffStart = 4

// backoff is how long to wait after the failures-th consecutive failure of
// a source fetched every interval: a quarter of the interval (at least
// minBackoffBase) after the first, doubled for every failure after that,
// capped at limit, and spread by up to ±20% by a jitter that is stable for
// a source and attempt (so a test, or a look at the status page, can
// predict it). A jittered step beyond limit is folded back below it, which
// keeps capped sources spread too. It never gives up: every failure count
// has a finite wait.
func backoff(interval, limit time.Duration, failures int, source string) time.Duration {
	base := max(interval/backoffStart, minBackoffBase)
	limit = max(limit, minBackoffBase)
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2 // d < limit before doubling, so no overflow
	}
	d = min(d, limit)
	d = time.Duration(float64(d) * (1 + backoffJitter*jitter(source, failures)))
	if d > limit {
		d = 2*limit - d
	}
	return d
}

// jitter is a number in [-1, 1) fixed by the source and the attempt.
func jitter(source string, attempt int) float64 {
	h := fnv.New64a()
	h.Write([]byte(source))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(attempt))
	h.Write(n[:])
	return float64(h.Sum64()>>11)/float64(1<<53)*2 - 1
}

// hints are the server's and the feed's advice on how often to fetch.
type hints struct {
	maxAge time.Duration // HTTP Cache-Control max-age, or Expires
	feed   normalize.Hints
}

// earliest is the first time at or after t (the time the schedule names)
// that the hints allow a fetch, given that the last one was at last: no
// sooner than the longest of max-age, <ttl> and sy:updatePeriod after last,
// and outside skipHours and skipDays (which are GMT). Whatever the hints
// say, the result is never more than maxServerWait after t; a skip list
// naming every hour or every day is ignored as nonsense.
func (h hints) earliest(last, t time.Time) time.Time {
	limit := t.Add(maxServerWait).UTC()
	wait := min(max(h.maxAge, h.feed.TTL, h.feed.UpdatePeriod), maxServerWait)
	t = later(t, last.Add(wait)).UTC()
	var hours [24]bool
	var days [7]bool
	nHours, nDays := 0, 0
	for _, hr := range h.feed.SkipHours {
		if hr >= 0 && hr < 24 && !hours[hr] {
			hours[hr] = true
			nHours++
		}
	}
	for _, d := range h.feed.SkipDays {
		if d >= time.Sunday && d <= time.Saturday && !days[d] {
			days[d] = true
			nDays++
		}
	}
	if nHours == 24 {
		hours = [24]bool{}
	}
	if nDays == 7 {
		days = [7]bool{}
	}
	// Each step leaves a skipped day or hour; a week of hours is more
	// than enough steps to reach an allowed one.
	for range 7 * 24 {
		if t.After(limit) {
			return limit
		}
		y, m, d := t.Date()
		switch {
		case days[t.Weekday()]:
			t = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
		case hours[t.Hour()]:
			t = time.Date(y, m, d, t.Hour()+1, 0, 0, 0, time.UTC)
		default:
			return t
		}
	}
	return limit
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// plan sets st's failure count and next attempt after an attempt at now that
// ended with err (nil for a 200 or a 304) and brought the hints h.
//
// A success resets the failure count and plans the schedule's next run at
// least half an interval away (see spreadSchedule.After), or
// the first run the hints allow (unless the source ignores them). A failure
// waits a backoff: a quarter of the source's normal interval at first,
// doubled for every consecutive failure and capped at BackoffMax, or as
// long as a Retry-After says if that is longer (up to maxServerWait). A 429
// also pauses every source of the host that sent it: a rate limit is kept
// per client, so the host's other feeds would only earn more 429s (see
// pauseHost). A gone source has no next attempt. st.NextReason records
// which of these set the next attempt.
func (r *Refresher) plan(src feed.Source, st *feed.SourceState, h hints, err error, now time.Time) {
	sched := r.schedules[src.Name]
	if err == nil {
		st.Failures = 0
		next, why := sched.After(now), feed.NextSchedule
		if !src.IgnoreCache {
			if e := h.earliest(now, next); e.After(next) {
				next, why = sched.At(e), feed.NextCache
			}
		}
		st.NextFetch, st.NextReason = next, why
		return
	}
	st.Failures++
	if st.Gone {
		st.NextFetch, st.NextReason = time.Time{}, ""
		return
	}
	wait, why := backoff(sched.period, r.backoffMax, st.Failures, src.Name), feed.NextBackoff
	se, _ := errors.AsType[*fetch.StatusError](err)
	var asked time.Duration // what the server asked for, bounded
	if se != nil && se.RetryAfter > 0 {
		asked = min(se.RetryAfter, maxServerWait)
		if asked > wait {
			wait, why = asked, feed.NextRetryAfter
		}
	}
	next := sched.At(now.Add(wait))
	if wait < sched.period && next.Sub(now) > sched.period {
		// Rounding a short wait up to a run went past a whole interval
		// (an hourly source failing just before its run): the schedule's
		// very next run is sooner, and still no hammering.
		if n := sched.Next(now); !n.IsZero() && n.Sub(now) >= minBackoffBase && n.Before(next) {
			next = n
		}
	}
	st.NextFetch, st.NextReason = next, why
	if se != nil && se.Code == http.StatusTooManyRequests {
		// Without a Retry-After, the host's other sources wait one
		// normal interval of this one, not its whole backoff: the 429
		// may have been this feed's alone.
		if asked == 0 {
			asked = max(sched.period, minBackoffBase)
		}
		r.pauseHost(se.URL, now.Add(asked))
	}
}

// pauseHost records that the host of rawURL asked not to be sent requests
// before until. A host is a host name and a port: the rate limit is kept by
// the server that set it, and two servers of one machine keep their own.
func (r *Refresher) pauseHost(rawURL string, until time.Time) {
	host := hostKey(rawURL)
	if host == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if until.After(r.hosts[host]) {
		r.hosts[host] = until
	}
}

// hostPause reports whether the host of rawURL asked to be left alone at
// now, and until when. Pauses that ended are forgotten on the way, so the
// map holds only hosts that are paused.
func (r *Refresher) hostPause(rawURL string, now time.Time) (host string, until time.Time, paused bool) {
	host = hostKey(rawURL)
	r.mu.Lock()
	defer r.mu.Unlock()
	for h, t := range r.hosts {
		if !t.After(now) {
			delete(r.hosts, h)
		}
	}
	until, paused = r.hosts[host]
	return host, until, paused && host != ""
}

// hostKey is the host name and port of rawURL, in lower case, without the
// scheme's default port; "" when rawURL has no host.
func hostKey(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	host, port := strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), u.Port()
	if port == "" || (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		return host
	}
	return net.JoinHostPort(host, port)
}

// lastHints returns the hints the source's feed gave on its last full
// fetch in this process.
func (r *Refresher) lastHints(source string) normalize.Hints {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.feedHints[source]
}

func (r *Refresher) setHints(source string, h normalize.Hints) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.IsZero() {
		delete(r.feedHints, source)
		return
	}
	r.feedHints[source] = h
}
