// Package metrics keeps feedmill's Prometheus metrics and serves them.
//
// A Metrics holds its own registry, never the global one, so that two
// daemons in one test process do not collide. The app calls its methods as
// things happen (a fetch, a render, a request for a published document, a
// WebSub delivery) and mounts Handler at /metrics.
//
// Every series is prefixed feedmill_. Times are in seconds, sizes in
// bytes, counters end in _total, following the Prometheus conventions.
// Label values come from the config (source and feed names) or from small
// fixed sets (outcomes, formats, HTTP status codes), so the number of
// series is bounded by the config; Forget and ForgetFeeds drop the series
// of names a config reload removed.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feedmill/feedmill/internal/publish"
)

// Outcomes of a refresh, as given to ObserveFetch.
const (
	OutcomeOK          = "ok"           // fetched and stored
	OutcomeNotModified = "not_modified" // the source answered 304
	OutcomeError       = "error"        // the fetch or the ingest failed
	OutcomeTimeout     = "timeout"      // the source did not answer within the fetch timeout
	OutcomeSkipped     = "skipped"      // not fetched (another instance had it, or it was backing off)
)

var fetchOutcomes = []string{OutcomeOK, OutcomeNotModified, OutcomeError, OutcomeTimeout, OutcomeSkipped}

// Outcomes of a WebSub delivery attempt, as given to Delivery; the same
// strings as websub's OnDelivery hook.
var deliveryOutcomes = []string{"ok", "failed", "retry"}

// collectTimeout bounds a store query made during a scrape: a scrape must
// answer even when the store is stuck.
const collectTimeout = 5 * time.Second

// errorLogEvery is the least time between two log lines about the same
// failing gauge: a scrape every 15 s must not flood the log.
const errorLogEvery = time.Minute

// Histogram buckets, in seconds.
var (
	// A fetch of a remote feed: tens of milliseconds to the fetcher's
	// timeout.
	fetchBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	// Serving a pre-rendered snapshot: well under a millisecond locally,
	// longer to a slow reader.
	serveBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}
)

// Options configure a Metrics. All are optional.
type Options struct {
	// StoreSize returns the size of the store in bytes; it is called at
	// each scrape, with a timeout. On an error the gauge is left out of
	// that scrape and the error logged (at most once a minute).
	StoreSize func(context.Context) (int64, error)
	// SourceSubscriptions returns how many sources have an active
	// subscription to their WebSub hub (websub.Subscriber.Active); called
	// at each scrape like StoreSize.
	SourceSubscriptions func(context.Context) (int, error)
	// Logger receives the errors of scrapes and gauges; nil discards.
	Logger *slog.Logger
	// Version is reported by feedmill_build_info.
	Version string
}

// Metrics holds feedmill's metrics. Its methods are safe for concurrent
// use.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
	log     *slog.Logger
	now     func() time.Time // the clock of the error log's rate limit; tests set it

	fetchDuration *prometheus.HistogramVec
	fetches       *prometheus.CounterVec
	responses     *prometheus.CounterVec
	itemsNew      *prometheus.CounterVec
	itemsUpdated  *prometheus.CounterVec
	lastSuccess   *prometheus.GaugeVec
	failures      *prometheus.GaugeVec

	publishedItems *prometheus.GaugeVec
	renders        *prometheus.CounterVec

	feedRequests       *prometheus.CounterVec
	feedDuration       *prometheus.HistogramVec
	sourceFeedRequests *prometheus.CounterVec
	sourceFeedDuration *prometheus.HistogramVec

	hubSubscribers prometheus.Gauge
	deliveries     *prometheus.CounterVec

	// forgets counts the calls of Forget and ForgetFeeds. A Requests
	// handle keeps the series it resolved for as long as this count stays
	// the same, and resolves them again once it moved, so that it never
	// counts into a series the vector no longer exports.
	forgets atomic.Uint64

	// sourceMu guards sources, the sources whose outcome series were
	// initialized.
	sourceMu sync.Mutex
	sources  map[string]bool
}

// New returns a Metrics with its own registry, holding feedmill's metrics
// and the Go runtime and process collectors.
func New(opts Options) *Metrics {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg:     prometheus.NewRegistry(),
		log:     log,
		now:     time.Now,
		sources: make(map[string]bool),

		fetchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "feedmill_fetch_duration_seconds",
			Help:    "Time taken by a refresh of a source: the HTTP request, reading the body, parsing and storing. Refreshes skipped without a request are not observed.",
			Buckets: fetchBuckets,
		}, []string{"source"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_fetches_total",
			Help: "Refreshes of a source, by outcome: ok (fetched and stored), not_modified (answered 304), error (failed), timeout (no complete answer within fetch.timeout), skipped (not fetched: backing off or claimed by another instance).",
		}, []string{"source", "outcome"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_fetch_responses_total",
			Help: "HTTP responses of sources to feedmill's fetches, by status code.",
		}, []string{"code"}),
		itemsNew: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_items_new_total",
			Help: "Items of a source stored for the first time.",
		}, []string{"source"}),
		itemsUpdated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_items_updated_total",
			Help: "Stored items of a source whose content changed at a refresh.",
		}, []string{"source"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "feedmill_source_last_success_timestamp_seconds",
			Help: "Unix time of the last successful refresh of a source (ok or not_modified).",
		}, []string{"source"}),
		failures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "feedmill_source_consecutive_failures",
			Help: "Failed refreshes of a source since its last success.",
		}, []string{"source"}),

		publishedItems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "feedmill_published_items",
			Help: "Items in the current document of a published feed.",
		}, []string{"feed"}),
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_publish_renders_total",
			Help: "Renders of a published feed (each renders its RSS, Atom and JSON documents).",
		}, []string{"feed"}),

		feedRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_http_feed_requests_total",
			Help: "HTTP requests for a published feed document, by feed, format and status code (304 for a conditional request that matched).",
		}, []string{"feed", "format", "code"}),
		feedDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "feedmill_http_feed_request_duration_seconds",
			Help:    "Time taken to answer a request for a published feed document, by feed and format: a sample of the requests, which feedmill_http_feed_requests_total counts all of.",
			Buckets: serveBuckets,
		}, []string{"feed", "format"}),
		sourceFeedRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_http_source_feed_requests_total",
			Help: "HTTP requests for a source's own feed document (/sources/NAME.EXT), by source, format and status code (304 for a conditional request that matched).",
		}, []string{"source", "format", "code"}),
		sourceFeedDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "feedmill_http_source_feed_request_duration_seconds",
			Help:    "Time taken to answer a request for a source's own feed document, by source and format: a sample of the requests, which feedmill_http_source_feed_requests_total counts all of.",
			Buckets: serveBuckets,
		}, []string{"source", "format"}),

		hubSubscribers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "feedmill_websub_hub_subscribers",
			Help: "Unexpired subscriptions held by feedmill's WebSub hub, to all its feeds.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedmill_websub_deliveries_total",
			Help: "Attempts of feedmill's WebSub hub to deliver content to a subscriber, by outcome: ok, retry (failed, tried again later), failed (failed for good).",
		}, []string{"outcome"}),
	}

	version := opts.Version
	if version == "" {
		version = "unknown"
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "feedmill_build_info",
		Help: "Always 1; its version label is the version of the running feedmill.",
	}, []string{"version"})
	buildInfo.WithLabelValues(version).Set(1)

	for _, o := range deliveryOutcomes {
		m.deliveries.WithLabelValues(o) // present at 0, so that rates start from the start
	}

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.fetchDuration, m.fetches, m.responses, m.itemsNew, m.itemsUpdated, m.lastSuccess, m.failures,
		m.publishedItems, m.renders,
		m.feedRequests, m.feedDuration, m.sourceFeedRequests, m.sourceFeedDuration,
		m.hubSubscribers, m.deliveries,
	)
	if opts.StoreSize != nil {
		m.reg.MustRegister(newFuncGauge(
			"feedmill_store_size_bytes", "Size of the store: its database file(s) for SQLite, its database for PostgreSQL.",
			func(ctx context.Context) (float64, error) {
				n, err := opts.StoreSize(ctx)
				return float64(n), err
			}, m))
	}
	if opts.SourceSubscriptions != nil {
		m.reg.MustRegister(newFuncGauge(
			"feedmill_websub_source_subscriptions", "Sources with an active subscription to their WebSub hub, whose updates are pushed.",
			func(ctx context.Context) (float64, error) {
				n, err := opts.SourceSubscriptions(ctx)
				return float64(n), err
			}, m))
	}

	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: printlnLogger{log},
		// A failing collector costs its own series, not the whole scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// Counts failed scrapes in promhttp_metric_handler_errors_total.
		Registry: m.reg,
	})
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveFetch records one refresh of a source. outcome is "ok",
// "not_modified", "error", "timeout" or "skipped"; status is the HTTP status (0 if
// none); newItems and updated count the items stored new and changed;
// failures is the source's count of consecutive failures after this
// refresh; at is when it ended, the source's last success time when
// outcome is ok or not_modified. A skipped refresh made no request: its
// duration is not observed.
func (m *Metrics) ObserveFetch(source string, d time.Duration, status int, outcome string, newItems, updated int, failures int, at time.Time) {
	source, outcome = label(source), label(outcome)
	m.initSource(source)
	m.fetches.WithLabelValues(source, outcome).Inc()
	if outcome != OutcomeSkipped {
		m.fetchDuration.WithLabelValues(source).Observe(d.Seconds())
	}
	if status > 0 {
		m.responses.WithLabelValues(strconv.Itoa(status)).Inc()
	}
	if newItems > 0 {
		m.itemsNew.WithLabelValues(source).Add(float64(newItems))
	}
	if updated > 0 {
		m.itemsUpdated.WithLabelValues(source).Add(float64(updated))
	}
	m.failures.WithLabelValues(source).Set(float64(failures))
	if outcome == OutcomeOK || outcome == OutcomeNotModified {
		m.LastSuccess(source, at)
	}
}

// initSource makes the counters of a source present at 0 from its first
// refresh on, so that rate() and increase() see the first error or the
// first item.
func (m *Metrics) initSource(source string) {
	m.sourceMu.Lock()
	defer m.sourceMu.Unlock()
	if m.sources[source] {
		return
	}
	m.sources[source] = true
	for _, o := range fetchOutcomes {
		m.fetches.WithLabelValues(source, o)
	}
	m.itemsNew.WithLabelValues(source)
	m.itemsUpdated.WithLabelValues(source)
}

// LastSuccess sets a source's last success time (at start-up, from the
// stored states). A zero t (never succeeded) sets nothing.
func (m *Metrics) LastSuccess(source string, t time.Time) {
	if t.IsZero() {
		return
	}
	// Whole seconds and the fraction apart: UnixNano as a float64 loses
	// the last digits, and overflows past 2262.
	m.lastSuccess.WithLabelValues(label(source)).Set(float64(t.Unix()) + float64(t.Nanosecond())/1e9)
}

// Forget deletes the series of sources that a config reload removed, so
// that they do not linger at their last values. A source that comes back
// starts again from zero, which Prometheus reads as a counter reset.
func (m *Metrics) Forget(sources []string) {
	for _, s := range sources {
		s = label(s)
		m.sourceMu.Lock()
		delete(m.sources, s)
		m.sourceMu.Unlock()
		match := prometheus.Labels{"source": s}
		m.fetchDuration.DeletePartialMatch(match)
		m.fetches.DeletePartialMatch(match)
		m.itemsNew.DeletePartialMatch(match)
		m.itemsUpdated.DeletePartialMatch(match)
		m.lastSuccess.DeletePartialMatch(match)
		m.failures.DeletePartialMatch(match)
		m.sourceFeedRequests.DeletePartialMatch(match)
		m.sourceFeedDuration.DeletePartialMatch(match)
	}
	m.forgets.Add(1)
}

// FeedRequests returns the counter of requests for the current document
// of a published feed in one format, for the server to take once per
// document (snapshot) and call on every request with the status it
// answered and the time it took. feed must be the name of a published
// feed (the server counts only requests it matched to one), which keeps
// the series bounded: feeds × formats × the statuses a document is
// answered with (200, 304, 206).
//
// The function returned neither locks nor allocates once it has counted
// each status once (see Requests.Observe).
func (m *Metrics) FeedRequests(feed string, format publish.Format) func(status int, d time.Duration) {
	return m.requests(m.feedRequests, m.feedDuration, feed, format).Observe
}

// SourceFeedRequests is FeedRequests for a source's own feed
// (/sources/NAME.EXT), counted in feedmill_http_source_feed_requests_total
// and its duration histogram by source and format: at most sources ×
// formats × statuses series, deleted by Forget with the source's others.
func (m *Metrics) SourceFeedRequests(source string, format publish.Format) func(status int, d time.Duration) {
	return m.requests(m.sourceFeedRequests, m.sourceFeedDuration, source, format).Observe
}

func (m *Metrics) requests(counts *prometheus.CounterVec, durations *prometheus.HistogramVec, name string, format publish.Format) *Requests {
	return &Requests{m: m, counts: counts, durations: durations, name: label(name), format: format.String()}
}

// Requests counts the requests for one document. The series it counts
// into are resolved on first use, not per request: WithLabelValues
// formats the status code, hashes every label value and locks the
// vector, which Observe, on the hottest path of the server, must not do.
type Requests struct {
	m            *Metrics
	counts       *prometheus.CounterVec
	durations    *prometheus.HistogramVec
	name, format string
	cur          atomic.Pointer[resolvedRequests]
}

// The statuses a document is answered with, each with a series slot;
// anything else (which the server never answers with) is counted through
// the vector, allocating.
var servedCodes = [...]int{http.StatusOK, http.StatusNotModified, http.StatusPartialContent}

func codeSlot(status int) int {
	for i, c := range servedCodes {
		if c == status {
			return i
		}
	}
	return -1
}

// resolvedRequests are the series of a Requests as of one forgets count.
// The counter of a status is resolved the first time it is answered, so
// that no series of a status never answered is exported at 0.
type resolvedRequests struct {
	forgets  uint64
	duration prometheus.Observer
	codes    [len(servedCodes)]atomic.Pointer[prometheus.Counter]
}

// Observe counts one request answered with status after d, a negative d
// for a request that was not timed (the server times one in
// server.TimedEvery: the counts are exact, the histogram a sample). Once each
// status was counted once it takes no lock and allocates nothing: two
// atomic loads find the series, and the Prometheus counter and histogram
// are lock-free.
func (r *Requests) Observe(status int, d time.Duration) {
	res := r.cur.Load()
	if res == nil || res.forgets != r.m.forgets.Load() {
		res = r.resolve()
	}
	if d >= 0 {
		res.duration.Observe(d.Seconds())
	}
	i := codeSlot(status)
	if i < 0 {
		r.counts.WithLabelValues(r.name, r.format, strconv.Itoa(status)).Inc()
		return
	}
	c := res.codes[i].Load()
	if c == nil {
		counter := r.counts.WithLabelValues(r.name, r.format, strconv.Itoa(status))
		if !res.codes[i].CompareAndSwap(nil, &counter) {
			c = res.codes[i].Load()
		} else {
			c = &counter
		}
	}
	(*c).Inc()
}

// resolve looks the series up again, after a Forget or ForgetFeeds (or
// the first time). The forgets count is read before the lookup, so a
// Forget that runs meanwhile makes the next Observe resolve once more.
func (r *Requests) resolve() *resolvedRequests {
	res := &resolvedRequests{forgets: r.m.forgets.Load()}
	res.duration = r.durations.WithLabelValues(r.name, r.format)
	r.cur.Store(res)
	return res
}

// Published records the item count of a published feed after a render,
// and counts the render.
func (m *Metrics) Published(feed string, items int) {
	feed = label(feed)
	m.publishedItems.WithLabelValues(feed).Set(float64(items))
	m.renders.WithLabelValues(feed).Inc()
}

// ForgetFeeds deletes the series of published feeds that a config reload
// removed.
func (m *Metrics) ForgetFeeds(feeds []string) {
	for _, f := range feeds {
		match := prometheus.Labels{"feed": label(f)}
		m.feedRequests.DeletePartialMatch(match)
		m.feedDuration.DeletePartialMatch(match)
		m.publishedItems.DeletePartialMatch(match)
		m.renders.DeletePartialMatch(match)
	}
	m.forgets.Add(1)
}

// Subscribers sets the number of subscriptions our hub holds (websub's
// HubOptions.OnSubscribers).
func (m *Metrics) Subscribers(n int) { m.hubSubscribers.Set(float64(n)) }

// Delivery counts one delivery attempt of our hub, by outcome: "ok",
// "failed" or "retry" (websub's HubOptions.OnDelivery).
func (m *Metrics) Delivery(outcome string) { m.deliveries.WithLabelValues(label(outcome)).Inc() }

// label returns s as a valid label value: WithLabelValues panics on
// invalid UTF-8, which a name must not be able to cause.
func label(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// funcGauge is a gauge read at each scrape from a function that can fail:
// on an error the gauge is left out of the scrape (a missing series says
// "unknown" better than a stale or made-up value) and the error is logged,
// at most once per errorLogEvery.
type funcGauge struct {
	name string
	desc *prometheus.Desc
	read func(context.Context) (float64, error)
	log  *slog.Logger
	now  func() time.Time

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int // errors not logged since lastLog
}

func newFuncGauge(name, help string, read func(context.Context) (float64, error), m *Metrics) *funcGauge {
	return &funcGauge{name: name, desc: prometheus.NewDesc(name, help, nil, nil), read: read, log: m.log, now: func() time.Time { return m.now() }}
}

func (g *funcGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *funcGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	v, err := g.read(ctx)
	if err != nil {
		g.logError(err)
		return
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
}

func (g *funcGauge) logError(err error) {
	g.mu.Lock()
	now := g.now()
	if !g.lastLog.IsZero() && now.Sub(g.lastLog) < errorLogEvery {
		g.suppressed++
		g.mu.Unlock()
		return
	}
	suppressed := g.suppressed
	g.lastLog, g.suppressed = now, 0
	g.mu.Unlock()
	g.log.Error("metrics: gauge unavailable", "metric", g.name, "err", err, "suppressed", suppressed)
}

// printlnLogger adapts slog to promhttp's Logger: errors of a scrape are
// logged, never panicked on.
type printlnLogger struct{ log *slog.Logger }

func (l printlnLogger) Println(v ...any) {
	l.log.Error("metrics: scrape", "err", fmt.Sprint(v...))
}
