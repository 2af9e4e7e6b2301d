// Package server serves feedmill over HTTP: the published feeds from their
// immutable snapshots, the OPML list of sources, a status page and a health
// check. A request never touches the renderer, and only the status page and
// health check read the store (the small per-source state table).
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
)

// snapshots is what the server needs from the publisher.
type snapshots interface {
	Snapshot(name string, f publish.Format) (*publish.Snapshot, bool)
	SourceSnapshot(ctx context.Context, name string, f publish.Format) (*publish.Snapshot, error)
	Archive(ctx context.Context, name string, f publish.Format, page int) (*publish.Snapshot, error)
	FeedOPML(name string) (*publish.Snapshot, bool)
	OPML() *publish.Snapshot
	Feeds() []publish.FeedSpec
}

// states reads the sources' fetch states: all of them for the status
// page, one for a source's page.
type states interface {
	States(ctx context.Context) ([]feed.SourceState, error)
	State(ctx context.Context, source string) (feed.SourceState, error)
}

// Options configure a Server.
type Options struct {
	BaseURL string        // public URL of the server, no trailing slash
	Version string        // shown on pages and in /healthz
	Sources []feed.Source // configured sources, in config order
	Logger  *slog.Logger

	// Hub is the WebSub hub our feeds advertise, sent as a Link header
	// beside rel=self; empty for none.
	Hub string
	// WebSubHub, when set, serves POST /websub/hub (the built-in hub), and
	// WebSubCallback serves /websub/callback/{source} (our subscriptions
	// to sources' hubs).
	WebSubHub      http.Handler
	WebSubCallback http.Handler

	// Started is when the daemon started, for the uptime in /healthz: a
	// Server built anew by a config reload keeps the daemon's. Zero means
	// when New was called.
	Started time.Time
	// ConfigProblems, when set, returns the problems of a changed config
	// file that was rejected (one "file:LINE: message" each) while the
	// daemon keeps running the config it had; none when the file in use is
	// the one running. The status page and /healthz show them, so that a
	// typo is seen by someone who does not read the log.
	ConfigProblems func() []string

	// Redactor hides the secrets of source URLs (user information, keys
	// and tokens in the query) on the pages, in status.json and in
	// /healthz, including the stored errors, moves and discovered feeds
	// that name them. The zero value knows the default secret parameter
	// names.
	Redactor feed.Redactor

	// Metrics, when set, serves GET /metrics (Prometheus). Observer,
	// when set, is told of every request for the current document of a
	// published feed or of a source's own feed.
	Metrics  http.Handler
	Observer FeedObserver
}

// TimedEvery is how often the server times a request for a published
// document: the first of a snapshot's requests and one in TimedEvery after
// it are, the others are only counted.
const TimedEvery = 8

// FeedObserver gives the counters of requests for published documents
// (metrics). The server asks once per snapshot, when it first serves it,
// and calls the function returned on every request for that snapshot with
// the status answered and the time taken, or a negative duration for a
// request it did not time: it times one request in TimedEvery, since
// reading the clock around a request answered from memory cost more than
// the rest of the handler (three clock reads, a few hundred nanoseconds on
// a virtual machine). That call is on the hottest path of the server and
// must neither lock nor allocate.
type FeedObserver interface {
	// FeedRequests counts the requests for a published feed's current
	// document in one format (/feeds/NAME.EXT).
	FeedRequests(feed string, format publish.Format) func(status int, d time.Duration)
	// SourceFeedRequests counts those for a source's own feed
	// (/sources/NAME.EXT).
	SourceFeedRequests(source string, format publish.Format) func(status int, d time.Duration)
}

// Server is feedmill's HTTP handler.
type Server struct {
	opts    Options
	snaps   snapshots
	states  states
	log     *slog.Logger
	started time.Time
	mux     *http.ServeMux
	pages   *template.Template
	nosniff []string // the header value, allocated once

	// hist is the store's history, when it keeps one (see history);
	// perDay holds its recent item counts, which Run keeps; csp is the
	// pages' policy.
	hist   history
	perDay perDayCache
	// urls are the configured sources' redacted URLs by name; a request
	// for /sources/NAME.EXT finds its source there without a scan.
	urls map[string]string
	csp  string
	// date is the Date field of feed responses, kept by Run.
	date dateHeader
}

// dateHeader is the Date header field of the responses for feed
// documents, formatted once a second (as nginx keeps its time) rather
// than by net/http for every response: a request answered from memory
// spent more reading the clock and formatting the date than in the rest of
// feedmill's handler. Until run has set it, and after run ends, responses
// get net/http's own.
type dateHeader struct{ v atomic.Pointer[[]string] }

func (d *dateHeader) set(t time.Time) {
	v := []string{t.UTC().Format(http.TimeFormat)}
	d.v.Store(&v)
}

// run keeps the field until ctx ends, setting it at each new second.
func (d *dateHeader) run(ctx context.Context) {
	defer d.v.Store(nil)
	for now := time.Now(); ; {
		d.set(now)
		t := time.NewTimer(now.Truncate(time.Second).Add(time.Second).Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case now = <-t.C:
		}
	}
}

// New returns a Server reading feeds from snaps and source states from st.
// When st also keeps fetch histories and items (the history interface,
// which both store drivers implement), the status pages show them too.
func New(opts Options, snaps snapshots, st states) *Server {
	s := &Server{opts: opts, snaps: snaps, states: st, log: opts.Logger, started: opts.Started, mux: http.NewServeMux(), pages: parsePages(), nosniff: []string{"nosniff"}}
	s.hist, _ = st.(history)
	s.perDay.kick = make(chan struct{}, 1)
	if s.started.IsZero() {
		s.started = time.Now()
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.opts.BaseURL = strings.TrimRight(s.opts.BaseURL, "/")
	// The server only shows sources: it never needs their secrets.
	s.opts.Sources = slices.Clone(s.opts.Sources)
	s.urls = make(map[string]string, len(s.opts.Sources))
	for i := range s.opts.Sources {
		s.opts.Sources[i].URL = s.opts.Redactor.URL(s.opts.Sources[i].URL)
		s.urls[s.opts.Sources[i].Name] = s.opts.Sources[i].URL
	}
	s.csp = pageCSP(s.opts.BaseURL)
	// GET patterns also answer HEAD.
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /feeds/{file}", s.feed)
	s.mux.HandleFunc("GET /feeds/{name}/archive/{file}", s.archive)
	s.mux.HandleFunc("GET /opml", s.opml)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /status.json", s.statusJSON)
	s.mux.HandleFunc("GET /sources/{name}", s.sourcePage)
	s.mux.HandleFunc("GET /assets/{file}", s.serveAsset)
	if opts.Metrics != nil {
		s.mux.Handle("GET /metrics", opts.Metrics)
	}
	if opts.WebSubHub != nil {
		s.mux.Handle("POST /websub/hub", opts.WebSubHub)
	}
	if opts.WebSubCallback != nil {
		s.mux.Handle("GET /websub/callback/{source}", opts.WebSubCallback)
		s.mux.Handle("POST /websub/callback/{source}", opts.WebSubCallback)
	}
	return s
}

// HTTPServer returns the http.Server the daemon serves h with: its
// timeouts bound what a slow or idle client holds (a request's header and
// body, a response's writing, an idle keep-alive connection), and errorLog
// takes net/http's own complaints. bench/serveref uses it too, so that the
// serving benchmark's bare reference runs the same server.
func HTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errorLog,
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Content-Type-Options"] = s.nosniff
	// Feed documents are what readers poll, over and over: they skip the
	// router's pattern matching (the same routes, GET /feeds/{file} and
	// GET /sources/{name}, are registered with the mux for everything
	// else, e.g. a 405 to POST).
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if file, ok := strings.CutPrefix(r.URL.Path, "/feeds/"); ok && file != "" && !strings.Contains(file, "/") {
			s.serveFeed(w, r, file)
			return
		}
		if file, ok := strings.CutPrefix(r.URL.Path, "/sources/"); ok && !strings.Contains(file, "/") {
			// The same rule as the source page's route: NAME.EXT is the
			// source NAME's own feed when EXT is a feed format and NAME a
			// source; anything else is a page, for the router.
			if name, ext, ok := cutLast(file, "."); ok && s.urls[name] != "" {
				if f, isFeed := publish.ParseFormat(ext); isFeed {
					s.sourceFeed(w, r, name, f)
					return
				}
			}
		}
	}
	s.mux.ServeHTTP(w, r)
}

// feed serves /feeds/{name}.{rss,atom,json} and the HTML page /feeds/{name}.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	s.serveFeed(w, r, r.PathValue("file"))
}

func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, file string) {
	name, ext, hasExt := cutLast(file, ".")
	if !hasExt {
		s.feedPage(w, r, file)
		return
	}
	if ext == "opml" {
		snap, ok := s.snaps.FeedOPML(name)
		if !ok {
			http.Error(w, "no published feed named "+name, http.StatusNotFound)
			return
		}
		s.serveSnapshot(w, r, snap, doc{})
		return
	}
	format, ok := publish.ParseFormat(ext)
	if !ok {
		http.Error(w, "unknown feed format "+ext+": use .rss, .atom, .json or .opml", http.StatusNotFound)
		return
	}
	snap, ok := s.snaps.Snapshot(name, format)
	if !ok {
		http.Error(w, "no published feed named "+name, http.StatusNotFound)
		return
	}
	s.serveSnapshot(w, r, snap, doc{name: name, format: format})
}

// archive serves /feeds/{name}/archive/{k}.{rss,atom,json}: the RFC 5005
// archive pages, page 1 the oldest.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	num, ext, _ := cutLast(r.PathValue("file"), ".")
	format, ok := publish.ParseFormat(ext)
	page, err := strconv.Atoi(num)
	if !ok || err != nil || page < 1 {
		http.Error(w, "no such archive page: want /feeds/NAME/archive/N.rss, .atom or .json", http.StatusNotFound)
		return
	}
	snap, err := s.snaps.Archive(r.Context(), name, format, page)
	switch {
	case errors.Is(err, publish.ErrNotFound):
		http.Error(w, fmt.Sprintf("feed %s has no archive page %d", name, page), http.StatusNotFound)
		return
	case err != nil:
		s.log.Error("archive", "feed", name, "page", page, "err", err)
		http.Error(w, "the archive is unavailable", http.StatusServiceUnavailable)
		return
	}
	s.serveSnapshot(w, r, snap, doc{name: name, format: format, page: page})
}

func (s *Server) opml(w http.ResponseWriter, r *http.Request) {
	snap := s.snaps.OPML()
	if snap == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	s.serveSnapshot(w, r, snap, doc{})
}

// serveSnapshot writes a snapshot with its validators, answering
// conditional requests with 304 and gzip-capable clients with the
// precompressed bytes. The gzip variant has an ETag of its own, as RFC 9110
// asks of different content codings, and Vary tells caches so; a client
// holding either ETag has the current content. d names a feed document,
// whose URL is advertised beside the WebSub hub in Link headers; the zero
// doc (OPML) has none. A request for the current document of a feed or of
// a source's own feed is counted by the Observer.
//
// This is the hot path of the whole server, so everything a response
// carries that is the same for every request of a snapshot (header
// values, the Link lines, the metric series) is computed once per
// snapshot (see representation) and found with a pointer load; a 200 is
// one Write with a Content-Length. Nothing here locks or allocates, and
// the clock is read for one request in TimedEvery (see FeedObserver).
// http.ServeContent is kept for Range requests, which feed readers do not
// send.
//
// It returns the status it answered with.
func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request, snap *publish.Snapshot, d doc) int {
	rep := s.representation(snap, d)
	if date := s.date.v.Load(); date != nil {
		w.Header()["Date"] = *date
	}
	if rep.observe == nil {
		return rep.serve(w, r, snap)
	}
	if rep.requests.Add(1)%TimedEvery != 1 { // the first is timed, then one in TimedEvery
		status := rep.serve(w, r, snap)
		rep.observe(status, -1)
		return status
	}
	start := time.Now()
	status := rep.serve(w, r, snap)
	rep.observe(status, time.Since(start))
	return status
}

// serve answers r from the representation of snap.
func (rep *representation) serve(w http.ResponseWriter, r *http.Request, snap *publish.Snapshot) int {
	v := &rep.identity
	if len(snap.Gzip) > 0 && acceptsGzip(r) {
		v = &rep.gzip
	}
	h := w.Header()
	// net/http canonicalizes the keys of a request's header: indexing the
	// map skips Get's canonicalization of a constant key.
	if rng := r.Header["Range"]; len(rng) > 0 && rng[0] != "" {
		for _, f := range v.header {
			if f.key != "Content-Length" {
				h[f.key] = f.value
			}
		}
		http.ServeContent(w, r, "", snap.LastModified, bytes.NewReader(v.body))
		return http.StatusPartialContent
	}
	if rep.notModified(r) {
		for _, f := range v.notModified {
			h[f.key] = f.value
		}
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	for _, f := range v.header {
		h[f.key] = f.value
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(v.body) // an error here is the client going away
	}
	return http.StatusOK
}

// notModified decides a conditional request: If-None-Match when present
// (either coding's ETag matches), else If-Modified-Since.
func (rep *representation) notModified(r *http.Request) bool {
	if inm := first(r.Header["If-None-Match"]); inm != "" {
		return etagListHas(inm, rep.etag, rep.gzipETag)
	}
	ims := first(r.Header["If-Modified-Since"])
	if ims == "" || rep.lastModified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !rep.lastModified.Truncate(time.Second).After(t)
}

// first is the first value of a header field, or "".
func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// doc names a published document: a feed's current document (page 0) or
// one of its archive pages; the zero doc is an OPML list.
type doc struct {
	name   string
	format publish.Format
	page   int
	source bool // a source's own feed, /sources/NAME.EXT
}

// selfURL is the document's own URL when WebSub links are to be sent.
func (s *Server) selfURL(d doc) string {
	switch {
	case s.opts.Hub == "" || d.name == "":
		return ""
	case d.page > 0:
		return publish.ArchiveURL(s.opts.BaseURL, d.name, d.format, d.page)
	case d.source:
		return publish.SourceFeedURL(s.opts.BaseURL, d.name, d.format)
	}
	return publish.FeedURL(s.opts.BaseURL, d.name, d.format)
}

// representation holds what every response for one snapshot carries,
// ready to copy into a response: the header fields of each content
// coding, for 200 and for 304, the validators to compare, and the
// counter of its requests.
type representation struct {
	doc            doc // the document it was built for
	identity, gzip variant
	etag, gzipETag string
	lastModified   time.Time
	// observe counts a request (see FeedObserver); nil when the document
	// is not counted (archive pages, OPML) or no Observer is set.
	observe func(status int, d time.Duration)
	// requests counts the requests served, to time one in TimedEvery.
	requests atomic.Uint32
}

type variant struct {
	body        []byte
	header      []field // a 200's
	notModified []field // a 304's
}

// field is one header field with its canonical key, assigned into a
// response's header map as is: no canonicalization, no allocation.
type field struct {
	key   string
	value []string
}

// representation returns the representation of snap served as d, built
// on the first request for the snapshot and kept on it (publish.Snapshot's
// memo, keyed by the server), so that later requests find it with a
// pointer load: no lock, no map, no allocation.
func (s *Server) representation(snap *publish.Snapshot, d doc) *representation {
	if rep, ok := snap.Memo(s).(*representation); ok && rep.doc == d {
		return rep
	}
	rep := s.newRepresentation(snap, d)
	if kept, ok := snap.Remember(s, rep).(*representation); ok && kept.doc == d {
		return kept
	}
	// Every snapshot is served at one URL, so a kept representation for
	// another doc does not happen; should it, this one is still right,
	// only not kept.
	return rep
}

func (s *Server) newRepresentation(snap *publish.Snapshot, d doc) *representation {
	one := func(v string) []string { return []string{v} }
	rep := &representation{doc: d, etag: snap.ETag, gzipETag: gzipETag(snap.ETag), lastModified: snap.LastModified}
	var link []string
	if self := s.selfURL(d); self != "" {
		link = []string{"<" + s.opts.Hub + `>; rel="hub"`, "<" + self + `>; rel="self"`}
	}
	vary, cacheControl := one("Accept-Encoding"), one("public, max-age=60")
	var lastModified []string
	if !snap.LastModified.IsZero() {
		lastModified = one(snap.LastModified.UTC().Format(http.TimeFormat))
	}
	contentType := one(snap.ContentType)
	build := func(body []byte, etag, encoding string) variant {
		// A 304 repeats the ETag and caching fields, not Last-Modified,
		// as RFC 9110 (15.4.5) asks when there is an ETag.
		common := []field{{"Etag", one(etag)}, {"Vary", vary}, {"Cache-Control", cacheControl}}
		if link != nil {
			common = append(common, field{"Link", link})
		}
		full := slices.Clone(common)
		if lastModified != nil {
			full = append(full, field{"Last-Modified", lastModified})
		}
		full = append(full, field{"Content-Type", contentType}, field{"Content-Length", one(strconv.Itoa(len(body)))})
		if encoding != "" {
			full = append(full, field{"Content-Encoding", one(encoding)})
		}
		return variant{body: body, header: full, notModified: common}
	}
	rep.identity = build(snap.Body, rep.etag, "")
	rep.gzip = build(snap.Gzip, rep.gzipETag, "gzip")
	if o := s.opts.Observer; o != nil && d.name != "" && d.page == 0 {
		if d.source {
			rep.observe = o.SourceFeedRequests(d.name, d.format)
		} else {
			rep.observe = o.FeedRequests(d.name, d.format)
		}
	}
	return rep
}

func gzipETag(etag string) string {
	if strings.HasSuffix(etag, `"`) {
		return etag[:len(etag)-1] + `-gzip"`
	}
	return etag + "-gzip"
}

// etagListHas reports whether an If-None-Match value names one of two tags
// (weak comparison, as RFC 9110 prescribes for If-None-Match).
func etagListHas(list, a, b string) bool {
	if list == a || list == b {
		return true // a client sending back the one tag it was given
	}
	a, b = strings.TrimPrefix(a, "W/"), strings.TrimPrefix(b, "W/")
	for list != "" {
		var field string
		field, list, _ = strings.Cut(list, ",")
		field = strings.TrimPrefix(strings.TrimSpace(field), "W/")
		if field == "*" || field == a || field == b {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (a q=0 excludes it).
func acceptsGzip(r *http.Request) bool {
	list := first(r.Header["Accept-Encoding"]) // canonical already: no Get
	if list == "gzip" || strings.HasPrefix(list, "gzip,") {
		return true // what readers send, gzip first and without a q-value
	}
	for list != "" {
		var part string
		part, list, _ = strings.Cut(list, ",")
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// health is the /healthz document.
type health struct {
	// Status is "ok"; "degraded" when every fetched source fails the
	// same way (Reason says how: no network, no DNS...), which is still
	// a 200; "store unavailable" with a 503.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Cause is the feed.Cause every source shares when degraded.
	Cause   feed.Cause `json:"cause,omitempty"`
	Version string     `json:"version"`
	Uptime  string     `json:"uptime"`
	Sources int        `json:"sources"`
	// Failing counts the sources whose last attempt failed and that are
	// retried; Gone those that answered 410 and are not polled any more.
	Failing  int       `json:"failing"`
	Gone     int       `json:"gone"`
	Never    int       `json:"never_fetched"`
	Items    int       `json:"items"`
	LastSeen time.Time `json:"last_success,omitzero"`
	// ConfigProblems are those of a changed config that was rejected.
	ConfigProblems []string `json:"config_problems,omitempty"`
	// Attention lists the sources an operator should look at: failing,
	// gone, moved, or found by autodiscovery.
	Attention []sourceHealth `json:"attention,omitempty"`
}

// sourceHealth is one source in /healthz's attention list.
type sourceHealth struct {
	Source      string    `json:"source"`
	Error       string    `json:"error,omitempty"`
	Failures    int       `json:"failures,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Gone        bool      `json:"gone,omitempty"`
	Moved       string    `json:"moved,omitempty"`
	Discovered  string    `json:"discovered,omitempty"`
	// Advice says what to do about it in feeds.yaml, if anything.
	Advice string `json:"advice,omitempty"`
}

// healthz answers 200 while the process serves and its store answers; the
// body says how the sources are doing (failing sources are not the
// daemon's ill health: a feed reader's server being down must not get
// feedmill restarted by a supervisor).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h := health{
		Status: "ok", Version: s.opts.Version, Uptime: time.Since(s.started).Round(time.Second).String(),
		Sources: len(s.opts.Sources), ConfigProblems: s.configProblems(),
	}
	code := http.StatusOK
	sts, err := s.states.States(ctx)
	if err != nil {
		s.log.Error("healthz: read states", "err", err)
		h.Status, code = "store unavailable", http.StatusServiceUnavailable
	}
	byName := s.stateIndex(sts)
	now := time.Now()
	for _, src := range s.opts.Sources {
		st := byName[src.Name]
		switch st.Condition(src.URL, now) {
		case feed.NeverFetched:
			h.Never++
		case feed.Gone:
			h.Gone++
		case feed.Paused, feed.Failing:
			h.Failing++
		}
		h.Items += st.ItemCount
		if st.LastSuccess.After(h.LastSeen) {
			h.LastSeen = st.LastSuccess
		}
		if sh, ok := attention(src, st, now); ok {
			h.Attention = append(h.Attention, sh)
		}
	}
	if o := outageOf(s.opts.Sources, byName, now); o != nil && err == nil {
		// Still a 200: what fails is the way out (the network, DNS), and
		// restarting feedmill would not bring it back.
		h.Status, h.Reason, h.Cause = "degraded", fmt.Sprintf("every source failed its last attempt the same way: %s", o.Words), o.Cause
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(h); err != nil {
			s.log.Debug("healthz: write", "err", err)
		}
	}
}

// attention describes a source that needs an operator's eye, and reports
// false for one that is simply fine (or not fetched yet at its URL).
func attention(src feed.Source, st feed.SourceState, now time.Time) (sourceHealth, bool) {
	switch st.Condition(src.URL, now) {
	case feed.Healthy, feed.NeverFetched:
		return sourceHealth{}, false
	}
	sh := sourceHealth{
		Source: src.Name, Error: st.LastError, Failures: st.Failures, Gone: st.Gone,
		Moved: st.Moved, Discovered: st.Discovered, Advice: advice(src, st),
	}
	if st.LastError != "" && !st.Gone {
		sh.NextAttempt = st.NextFetch.UTC()
	}
	return sh, true
}

// advice says what to change in the config about a source, or "" when
// nothing needs changing.
func advice(src feed.Source, st feed.SourceState) string {
	switch {
	case st.Gone:
		return fmt.Sprintf("the feed was removed (410 Gone) and is not polled any more: update the url of source %s in the config, or delete the source", src.Name)
	case st.Moved != "":
		return fmt.Sprintf("the feed moved permanently: set the url of source %s to %s in the config", src.Name, st.Moved)
	}
	return ""
}

// configProblems returns the problems of a rejected config, if any.
func (s *Server) configProblems() []string {
	if s.opts.ConfigProblems == nil {
		return nil
	}
	return s.opts.ConfigProblems()
}

// stateIndex indexes the stored states of the configured sources by name,
// each as it stands for the source's URL now (feed.SourceState.For: what
// was recorded under an old URL is not shown), with what they say about
// URLs redacted for showing: where a source moved or which feed its page
// advertises keeps the credentials it is fetched with, and an error stored
// before its redaction may name them. The URLs are compared redacted, as
// the server keeps them: a URL whose only change is a secret counts as
// the same one until the refresh it makes due at once records it.
func (s *Server) stateIndex(sts []feed.SourceState) map[string]feed.SourceState {
	// One map, of the configured sources only: a state is large, and the
	// status page reads ten thousand of them on every request.
	m := make(map[string]feed.SourceState, len(s.opts.Sources))
	for _, st := range sts {
		if st, ok := s.shown(st); ok {
			m[st.Name] = st
		}
	}
	return m
}

// shown is st as the pages show it (see stateIndex); false for the state
// of a source that is not configured.
func (s *Server) shown(st feed.SourceState) (feed.SourceState, bool) {
	url, ok := s.urls[st.Name]
	if !ok {
		return feed.SourceState{}, false
	}
	red := s.opts.Redactor
	st.URL, st.Moved, st.Discovered = red.URL(st.URL), red.URL(st.Moved), red.URL(st.Discovered)
	st.LastError = red.Text(st.LastError)
	return st.For(url), true
}
