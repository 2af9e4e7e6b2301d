package server

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
)

// history is what the status pages read of the store beyond the states:
// each source's recent fetch attempts, its recent items, and how many
// items each source brought lately. Both store drivers provide it; a
// Server is given it with its states (New looks for it there), and
// without it the pages show the states alone.
type history interface {
	// Fetches returns the source's most recent fetch attempts, newest
	// first, at most limit.
	Fetches(ctx context.Context, source string, limit int) ([]feed.Fetch, error)
	// RecentItemCounts counts, per source, the items first seen at or
	// after since.
	RecentItemCounts(ctx context.Context, since time.Time) (map[string]int, error)
	// Items returns stored items, newest first.
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
}

// The status words of a source, as the page shows them, /status.json
// reports them and ?status= selects them. A source has exactly one: the
// first that applies in this order (a gone source that had moved is gone).
const (
	statusNever      = "never"      // not fetched yet
	statusGone       = "gone"       // 410: not polled any more
	statusFailing    = "failing"    // the last attempt failed (a 429 too); retried with backoff
	statusMoved      = "moved"      // fetched fine where a permanent redirect led: the config should say so
	statusDiscovered = "discovered" // the url is a page; fetched fine at the feed it advertises
	statusOK         = "ok"
)

// statusRank orders the statuses for sorting, those that need an operator
// first.
var statusRank = map[string]int{statusFailing: 0, statusGone: 1, statusMoved: 2, statusDiscovered: 3, statusNever: 4, statusOK: 5}

// statusLabels are the words the filter shows for each status, in the
// order it lists them.
var statusLabels = []struct{ status, label string }{
	{statusOK, "ok"}, {statusFailing, "failing"}, {statusGone, "gone"}, {statusMoved, "moved"},
	{statusDiscovered, "discovered"}, {statusNever, "never fetched"},
}

// sourceStatus gives the status word at now of the source configured at
// url: its feed.Condition, a 429 pause shown as the failure it is.
func sourceStatus(st feed.SourceState, url string, now time.Time) string {
	switch st.Condition(url, now) {
	case feed.NeverFetched:
		return statusNever
	case feed.Gone:
		return statusGone
	case feed.Paused, feed.Failing:
		return statusFailing
	case feed.Moved:
		return statusMoved
	case feed.Discovered:
		return statusDiscovered
	}
	return statusOK
}

// perDayWindow is how far back items per day are counted; perDayTTL how
// long a count is reused before a page asks for a new one (counting may
// step through every item of the window: seconds at millions of items);
// perDayTimeout bounds one count.
const (
	perDayWindow  = 7 * 24 * time.Hour
	perDayTTL     = time.Minute
	perDayTimeout = 2 * time.Minute
)

// statusDoc is the status of the whole daemon: what the status page shows
// and GET /status.json returns.
type statusDoc struct {
	Generated time.Time    `json:"generated"`
	Version   string       `json:"version"`
	Feeds     []feedView   `json:"feeds"`
	Sources   []sourceRow  `json:"sources"`
	Counts    statusCounts `json:"counts"`
	// Page is set when status.json was asked for one page of the
	// sources (?page=).
	Page *pager `json:"page,omitempty"`
	// ConfigProblems are those of a changed config file that was
	// rejected: the daemon still runs the previous one.
	ConfigProblems []string `json:"config_problems,omitempty"`
	// Outage is set when every source that was fetched failed its last
	// attempt the same way (no network, no DNS): the page shows one
	// banner for it.
	Outage *outageView `json:"outage,omitempty"`
}

// outageView is the trouble every source shares.
type outageView struct {
	Cause   feed.Cause `json:"cause"`   // a feed.Cause value
	Words   string     `json:"words"`   // what happened and what to check
	Sources int        `json:"sources"` // how many sources failed so
}

// outageOf returns the trouble every fetched source shares at now, if
// they share one (see feed.CommonCause): each source that was fetched at
// its configured URL and is not gone counts, with the cause of its last
// failure, or none after a success.
func outageOf(sources []feed.Source, byName map[string]feed.SourceState, now time.Time) *outageView {
	var causes []feed.Cause
	for _, src := range sources {
		st := byName[src.Name]
		switch st.Condition(src.URL, now) {
		case feed.NeverFetched, feed.Gone:
			continue
		case feed.Failing:
			causes = append(causes, st.LastCause)
		default:
			causes = append(causes, "")
		}
	}
	c, ok := feed.CommonCause(causes)
	if !ok {
		return nil
	}
	return &outageView{Cause: c, Words: c.Words(), Sources: len(causes)}
}

// statusCounts counts the sources in each status, all of them in All
// (whatever the filter).
type statusCounts struct {
	All        int `json:"all"`
	OK         int `json:"ok"`
	Failing    int `json:"failing"`
	Gone       int `json:"gone"`
	Moved      int `json:"moved"`
	Discovered int `json:"discovered"`
	Never      int `json:"never"`
}

func (c *statusCounts) add(status string) {
	c.All++
	*c.of(status)++
}

func (c *statusCounts) of(status string) *int {
	switch status {
	case statusOK:
		return &c.OK
	case statusFailing:
		return &c.Failing
	case statusGone:
		return &c.Gone
	case statusMoved:
		return &c.Moved
	case statusDiscovered:
		return &c.Discovered
	}
	return &c.Never
}

// sourceRow is one source on the status page and in /status.json.
// sourceFeeds are the URLs of a source's own feed.
type sourceFeeds struct {
	Atom string `json:"atom"`
	RSS  string `json:"rss"`
	JSON string `json:"json"`
}

type sourceRow struct {
	// Index is the source's place in the config, the order without ?sort.
	Index int `json:"-"`
	// Now is when the row was made, for the page's relative times.
	Now      time.Time `json:"-"`
	Name     string    `json:"name"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`       // as configured
	FetchURL string    `json:"fetch_url"` // where it is fetched now
	Site     string    `json:"site,omitempty"`
	Page     string    `json:"page"` // its page on this server
	// Feeds are its own feed on this server, in each format.
	Feeds      sourceFeeds `json:"feeds"`
	Categories []string    `json:"categories,omitempty"`

	Status     string `json:"status"`
	HTTPStatus int    `json:"http_status,omitempty"` // of the last attempt
	// Error is the last attempt's error in words, empty after a success.
	Error string `json:"error,omitempty"`
	// Cause classes Error when it is a failure to reach the server (a
	// feed.Cause value).
	Cause feed.Cause `json:"cause,omitempty"`
	// Failures counts consecutive failed attempts; the next fetch is then
	// a backed-off retry.
	Failures    int       `json:"failures"`
	LastFetch   time.Time `json:"last_fetch,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	NextFetch   time.Time `json:"next_fetch,omitzero"` // zero when gone
	// NextReason says what set NextFetch (a feed.Next* value: schedule,
	// cache, backoff, retry_after, host_paused), and NextWhy says it in
	// words; both empty when gone or not known.
	NextReason string `json:"next_reason,omitempty"`
	NextWhy    string `json:"next_why,omitempty"`
	Moved      string `json:"moved,omitempty"`
	Discovered string `json:"discovered,omitempty"`
	Gone       bool   `json:"gone,omitempty"`
	Items      int    `json:"items"`
	// PerDay is the items first seen in the last seven days, per day;
	// absent when the store could not say.
	PerDay *float64 `json:"items_per_day,omitempty"`
	// Advice says what to change in the config, if anything.
	Advice string `json:"advice,omitempty"`
}

// Fetched reports whether the source was ever fetched.
func (r sourceRow) Fetched() bool { return !r.LastFetch.IsZero() }

// ShortError is Error cut to a length that fits a table cell; the page
// keeps the whole text in a title.
func (r sourceRow) ShortError() string { return shorten(r.Error, 160) }

// shorten cuts s to at most max runes, at a space when there is one near
// the end, marking the cut with an ellipsis.
func shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut := 0
	for i := range s {
		if cut == max-1 {
			s = s[:i]
			break
		}
		cut++
	}
	if sp := strings.LastIndexByte(s, ' '); sp > len(s)*3/4 {
		s = s[:sp]
	}
	return strings.TrimRight(s, " ,;:") + "…"
}

// newSourceRow describes a configured source and its stored state.
func (s *Server) newSourceRow(i int, src feed.Source, st feed.SourceState, perDay map[string]int, now time.Time) sourceRow {
	r := sourceRow{
		Index: i, Now: now, Name: src.Name, Title: firstNonEmpty(src.Title, st.FeedTitle, src.Name),
		URL: src.URL, FetchURL: st.FetchURL(src.URL), Site: st.FeedLink,
		Page: publish.SourcePageURL(s.opts.BaseURL, src.Name),
		Feeds: sourceFeeds{
			Atom: publish.SourceFeedURL(s.opts.BaseURL, src.Name, publish.Atom),
			RSS:  publish.SourceFeedURL(s.opts.BaseURL, src.Name, publish.RSS),
			JSON: publish.SourceFeedURL(s.opts.BaseURL, src.Name, publish.JSON),
		},
		Categories: src.Categories, Status: sourceStatus(st, src.URL, now), HTTPStatus: st.LastStatus, Error: st.LastError,
		Cause: st.LastCause, Failures: st.Failures, LastFetch: st.LastFetch.UTC(), LastSuccess: st.LastSuccess.UTC(),
		Moved: st.Moved, Discovered: st.Discovered, Gone: st.Gone, Items: st.ItemCount, Advice: advice(src, st),
	}
	// A gone source has no next fetch, whatever time was stored last.
	if !st.Gone {
		r.NextFetch = st.NextFetch.UTC()
		r.NextReason, r.NextWhy = st.NextReason, st.NextWords()
	}
	if perDay != nil {
		v := perDayRate(perDay[src.Name])
		r.PerDay = &v
	}
	return r
}

// status gathers the status of every configured source and published
// feed, with the sources view shows: filtered and sorted, then cut to its
// page when paged (else every one). Only what sorting, filtering and the
// counts need is made for every source (a rowKey); the full rows only for
// the sources shown, which at ten thousand sources is most of the page's
// cost. Only reading the states may fail it; the items per day are the
// last counted (see Run), absent before the first count.
func (s *Server) status(ctx context.Context, now time.Time, view listView, paged bool) (statusDoc, error) {
	sts, err := s.states.States(ctx)
	if err != nil {
		return statusDoc{}, err
	}
	byName := s.stateIndex(sts)
	perDay := s.itemsPerDay(now)
	doc := statusDoc{Generated: now.UTC().Truncate(time.Second), Version: s.opts.Version, Feeds: s.feedViews(5), ConfigProblems: s.configProblems(),
		Outage: outageOf(s.opts.Sources, byName, now)}
	keys := make([]rowKey, 0, len(s.opts.Sources))
	for i, src := range s.opts.Sources {
		k := newRowKey(i, src, byName[src.Name], perDay, now)
		doc.Counts.add(k.status)
		keys = append(keys, k)
	}
	keys = view.apply(keys)
	if paged {
		var p pager
		keys, p = view.paginate(keys)
		doc.Page = &p
	}
	doc.Sources = make([]sourceRow, 0, len(keys))
	for _, k := range keys {
		src := s.opts.Sources[k.index]
		doc.Sources = append(doc.Sources, s.newSourceRow(k.index, src, byName[src.Name], perDay, now))
	}
	return doc, nil
}

// rowKey is what filtering and sorting the sources table read of one
// source, as its sourceRow would show it (newRowKey and newSourceRow read
// the same fields).
type rowKey struct {
	index  int    // its place in the config
	lower  string // its name in lower case
	status string
	// lastSuccess and next are Unix seconds; never successful is the
	// stalest of all (0), no next fetch (gone) after every scheduled one.
	lastSuccess, next int64
	failures, items   int
	perDay            float64 // -1 when not counted
}

func newRowKey(i int, src feed.Source, st feed.SourceState, perDay map[string]int, now time.Time) rowKey {
	k := rowKey{index: i, lower: strings.ToLower(src.Name), status: sourceStatus(st, src.URL, now),
		lastSuccess: unixOr(st.LastSuccess, 0), next: 1 << 62, failures: st.Failures, items: st.ItemCount, perDay: -1}
	if !st.Gone {
		k.next = unixOr(st.NextFetch, 1<<62)
	}
	if perDay != nil {
		k.perDay = perDayRate(perDay[src.Name])
	}
	return k
}

// perDayRate is n items over perDayWindow, per day.
func perDayRate(n int) float64 { return float64(n) / (perDayWindow.Hours() / 24) }

// perDayCache holds the last count of recent items per source, which the
// pages read without waiting, and the pages' requests for a new one.
type perDayCache struct {
	last atomic.Pointer[perDayCount]
	// kick asks Run for a new count; its one slot makes any number of
	// requests one count (a single flight).
	kick chan struct{}
}

// perDayCount is one count: the items each source brought in the
// perDayWindow before at.
type perDayCount struct {
	at     time.Time
	counts map[string]int
}

// stale reports whether a count made at at is due again at now (a clock
// set back makes it due too).
func perDayStale(at, now time.Time) bool {
	return now.Sub(at) >= perDayTTL || now.Before(at)
}

// itemsPerDay returns the last count of the items each source brought in
// the last perDayWindow, without ever counting: nil before Run's first
// count (and when the store keeps no history), when the pages show no
// per-day figures. A count older than perDayTTL is still returned, and
// Run is asked for a new one.
func (s *Server) itemsPerDay(now time.Time) map[string]int {
	if s.hist == nil {
		return nil
	}
	last := s.perDay.last.Load()
	if last == nil || perDayStale(last.at, now) {
		select {
		case s.perDay.kick <- struct{}{}:
		default: // a count is asked for already
		}
	}
	if last == nil {
		return nil
	}
	return last.counts
}

// Run keeps, until ctx ends, the Date field of feed responses (once a
// second, see dateHeader) and the status pages' items per day: it counts
// at once, then again when a page finds the last count older than
// perDayTTL, so an idle daemon does not count and no request waits for a
// count. One count runs at a time, each bounded by perDayTimeout; a failed
// one is logged, the last count kept, and not tried again before
// perDayTTL. Without a store history it only keeps the date.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.date.run(ctx) })
	if s.hist == nil {
		return
	}
	tried := time.Now()
	s.countPerDay(ctx, tried)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.perDay.kick:
		}
		if now := time.Now(); perDayStale(tried, now) {
			tried = now
			s.countPerDay(ctx, now)
		}
	}
}

// countPerDay counts the items per source first seen in the perDayWindow
// before now and keeps the count for the pages.
func (s *Server) countPerDay(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, perDayTimeout)
	defer cancel()
	counts, err := s.hist.RecentItemCounts(ctx, now.Add(-perDayWindow))
	if err != nil {
		if !errors.Is(ctx.Err(), context.Canceled) { // not the daemon stopping
			s.log.Warn("status: count recent items", "err", err)
		}
		return
	}
	if counts == nil {
		counts = map[string]int{}
	}
	s.perDay.last.Store(&perDayCount{at: now, counts: counts})
}

// listView is how the sources table is filtered and sorted: the query
// parameters status, sort and order, which the page's links carry and its
// script keeps in the address bar.
type listView struct {
	Status string // a status word, or "" for all
	Sort   string // a sortKeys key, or "" for the config's order
	Desc   bool
	// Page is the page of statusPageSize rows shown, from 1; 0 is the
	// first for the page and every row for status.json.
	Page int
}

// statusPageSize is how many sources one page of the table shows: with
// ten thousand sources a page of all of them takes seconds to render and
// to load, and the sources that need an operator sort first anyway.
const statusPageSize = 100

// pager is where a page of the sources table stands among the others.
type pager struct {
	Number int `json:"number"` // this page, from 1
	Pages  int `json:"pages"`  // how many pages the view has (at least 1)
	Size   int `json:"size"`   // rows per page
	Total  int `json:"total"`  // rows of the view, over every page
	// From and To number the rows shown, from 1 (both 0 when none).
	From int `json:"-"`
	To   int `json:"-"`
	// Prev and Next link the neighbouring pages; "" at either end.
	Prev string `json:"-"`
	Next string `json:"-"`
}

// paginate cuts rows (already filtered and sorted) to the view's page,
// statusPageSize of them; page 0 is the first. A page past the last shows
// the last.
func (v listView) paginate(rows []rowKey) ([]rowKey, pager) {
	p := pager{Number: max(v.Page, 1), Size: statusPageSize, Total: len(rows)}
	p.Pages = max((len(rows)+statusPageSize-1)/statusPageSize, 1)
	p.Number = min(p.Number, p.Pages)
	lo := (p.Number - 1) * statusPageSize
	hi := min(lo+statusPageSize, len(rows))
	if hi > lo {
		p.From, p.To = lo+1, hi
	}
	return rows[lo:hi], p
}

// sortKeys are the columns the table sorts by, each with its first order
// (the one most useful at a glance: most failures first, stalest first).
var sortKeys = []struct {
	key, label string
	desc       bool
	num        bool // a numeric column, right-aligned
}{
	{"name", "Source", false, false},
	{"status", "Status", false, false},
	{"last_success", "Last success", false, false},
	{"failures", "Failures", true, true},
	{"next", "Next fetch", false, false},
	{"items", "Items", true, true},
	{"per_day", "Per day", true, true},
}

// parseListView reads the view from a query; unknown values fall back to
// the defaults (all sources, config order) rather than failing the page.
func parseListView(q url.Values) listView {
	var v listView
	if st := q.Get("status"); statusRankOK(st) {
		v.Status = st
	}
	key := q.Get("sort")
	for _, k := range sortKeys {
		if k.key == key {
			v.Sort, v.Desc = key, k.desc
		}
	}
	if v.Sort != "" {
		switch q.Get("order") {
		case "asc":
			v.Desc = false
		case "desc":
			v.Desc = true
		}
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		v.Page = n
	}
	return v
}

func statusRankOK(st string) bool {
	_, ok := statusRank[st]
	return ok
}

// query is the view as query parameters, with sort and order replaced;
// a new order starts again at the first page, so the page is left out.
func (v listView) query(sort string, desc bool) string {
	return v.pageQuery(sort, desc, 0)
}

// pageQuery is query with the page number page (none when below 2).
func (v listView) pageQuery(sort string, desc bool, page int) string {
	q := url.Values{}
	if v.Status != "" {
		q.Set("status", v.Status)
	}
	if sort != "" {
		q.Set("sort", sort)
		q.Set("order", map[bool]string{false: "asc", true: "desc"}[desc])
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// apply filters and sorts rows (in place: rows is the caller's).
func (v listView) apply(rows []rowKey) []rowKey {
	if v.Status != "" {
		rows = slices.DeleteFunc(rows, func(r rowKey) bool { return r.status != v.Status })
	}
	sortRows(rows, v.Sort, v.Desc)
	return rows
}

// sortRows orders rows by key, ties (and an empty key) in config order.
// The page's script sorts the same way (status.js: compare): keep them
// in step.
func sortRows(rows []rowKey, key string, desc bool) {
	if key == "" {
		return // the config's order, which rows are in
	}
	slices.SortStableFunc(rows, func(a, b rowKey) int {
		c := compareRows(a, b, key)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.index, b.index))
	})
}

func compareRows(a, b rowKey, key string) int {
	switch key {
	case "name":
		return cmp.Compare(a.lower, b.lower)
	case "status":
		return cmp.Compare(statusRank[a.status], statusRank[b.status])
	case "last_success":
		return cmp.Compare(a.lastSuccess, b.lastSuccess)
	case "failures":
		return cmp.Compare(a.failures, b.failures)
	case "next":
		return cmp.Compare(a.next, b.next)
	case "items":
		return cmp.Compare(a.items, b.items)
	case "per_day":
		return cmp.Compare(a.perDay, b.perDay)
	}
	return 0
}

func unixOr(t time.Time, zero int64) int64 {
	if t.IsZero() {
		return zero
	}
	return t.Unix()
}

func perDayOr(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// statusJSON serves GET /status.json: the status page's data, which its
// script reads every 30 seconds. It takes the page's status, sort and
// order parameters, and page: with it, sources holds that page of
// statusPageSize rows and page says where it stands; without it, every
// source.
func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	view := parseListView(r.URL.Query())
	doc, err := s.status(ctx, time.Now(), view, view.Page > 0)
	if err != nil {
		s.log.Error("status.json: read states", "err", err)
		http.Error(w, "the store is unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, r, s.log, http.StatusOK, doc)
}

// feedViews describes the published feeds, each with its latest items
// (at most latest of them).
func (s *Server) feedViews(latest int) []feedView {
	var out []feedView
	for _, spec := range s.snaps.Feeds() {
		v := feedView{
			Name: spec.Name, Title: firstNonEmpty(spec.Title, spec.Name), Description: spec.Description,
			Page: s.opts.BaseURL + "/feeds/" + url.PathEscape(spec.Name),
			Atom: publish.FeedURL(s.opts.BaseURL, spec.Name, publish.Atom),
			RSS:  publish.FeedURL(s.opts.BaseURL, spec.Name, publish.RSS),
			JSON: publish.FeedURL(s.opts.BaseURL, spec.Name, publish.JSON),
			OPML: s.opts.BaseURL + "/feeds/" + url.PathEscape(spec.Name) + ".opml",
		}
		if snap, ok := s.snaps.Snapshot(spec.Name, publish.Atom); ok {
			v.Items = snap.Items
			for _, it := range snap.Entries[:min(latest, len(snap.Entries))] {
				v.Latest = append(v.Latest, newEntryView(it))
			}
		}
		out = append(out, v)
	}
	return out
}
