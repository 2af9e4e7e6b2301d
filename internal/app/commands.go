package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/metrics"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/websub"
)

// loadConfig loads and validates the config, printing every problem as
// `file:LINE: message` to w and returning exit status 2 when there are any.
func loadConfig(path string, w io.Writer) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		printConfigErrors(w, err)
		return nil, &ExitError{Code: 2, Err: fmt.Errorf("invalid config %s", path)}
	}
	return cfg, nil
}

func check(path string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(path, stderr)
	if err != nil {
		return err
	}
	// Warnings are advice, not errors: the config runs as it is.
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stderr, "%s: warning: %s\n", path, w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d sources, %d published feeds)\n", path, len(cfg.Sources), len(cfg.Feeds))
	return nil
}

// importOPML adds the feeds of an OPML file to the config's sources.
func importOPML(configPath, opmlPath string, stdout io.Writer) error {
	data, err := os.ReadFile(opmlPath)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	added, skipped, err := config.Import(configPath, data)
	if err != nil {
		return fmt.Errorf("import %s: %w", opmlPath, err)
	}
	for _, name := range added {
		fmt.Fprintf(stdout, "added %s\n", name)
	}
	// The URLs are the config's own, written to the operator's terminal,
	// but a terminal's output gets pasted into issues: hide the secrets.
	var secrets feed.Redactor
	if cfg, err := config.Load(configPath); err == nil {
		secrets = cfg.Redactor()
	}
	for _, url := range skipped {
		fmt.Fprintf(stdout, "skipped %s (already a source)\n", secrets.URL(url))
	}
	fmt.Fprintf(stdout, "%s: %d sources added, %d already there\n", configPath, len(added), len(skipped))
	return nil
}

// pipeline is the set of concrete parts built from one config on an open
// store. The store and the fetch client outlive it: `serve` builds a new
// pipeline on each config reload and hands them over.
type pipeline struct {
	cfg       *config.Config
	store     Store
	client    *fetch.Client
	publisher *publish.Publisher
	refresher *refresh.Refresher

	hubURL     string             // the hub our feeds advertise; "" for none
	hub        *websub.Hub        // the built-in hub, nil unless configured
	subscriber *websub.Subscriber // our subscriptions to sources' hubs

	seen atomic.Int64 // the store's Version of the last rebuild

	// onResult, when set before the first refresh, is told the outcome
	// of every refresh of a source (fetch's progress bar).
	onResult func(refresh.Result)
}

// fetchOptions are the fetch client's options for cfg, without a logger:
// two configs with equal options can share one client (and its per-host
// timing) across a reload.
func fetchOptions(cfg *config.Config) fetch.Options {
	return fetch.Options{
		Version:      Version(),
		UserAgent:    cfg.Fetch.UserAgent,
		Timeout:      cfg.Fetch.Timeout,
		MaxBody:      cfg.Fetch.MaxBody,
		Concurrency:  cfg.Fetch.Concurrency,
		PerHost:      cfg.Fetch.PerHost,
		MinGap:       cfg.Fetch.MinGap,
		AllowPrivate: cfg.Fetch.AllowPrivate,
		Redactor:     cfg.Redactor(),
	}
}

// newFetchClient returns the fetch client for opts.
func newFetchClient(opts fetch.Options, logger *slog.Logger) *fetch.Client {
	opts.Logger = logger.With("component", "fetch")
	return fetch.New(opts)
}

// build wires the pipeline for cfg on the open store st, fetching with
// client. ctx bounds the pipeline's own background work (WebSub pings).
func build(ctx context.Context, cfg *config.Config, st Store, client *fetch.Client, logger *slog.Logger) (*pipeline, error) {
	return buildWith(ctx, cfg, st, client, logger, nil, instanceName())
}

// buildWith is build recording what the pipeline does in m (the daemon's
// metrics), when m is not nil, and holding leases on the store's sources
// as owner (see instanceName and daemonName).
func buildWith(ctx context.Context, cfg *config.Config, st Store, client *fetch.Client, logger *slog.Logger, m *metrics.Metrics, owner string) (*pipeline, error) {
	p := &pipeline{cfg: cfg, store: st, client: client}
	var hubOpts websub.HubOptions
	if m != nil {
		hubOpts.OnDelivery, hubOpts.OnSubscribers = m.Delivery, m.Subscribers
	}
	// WebSub requests go to addresses that strangers give us: callbacks
	// of subscribers of our hub, hubs named by sources' feeds. They go
	// through the fetcher's guarded transport, which refuses private
	// addresses (unless fetch.allow_private), so that nobody can make
	// feedmill probe its own network.
	websubClient := &http.Client{Timeout: 15 * time.Second, Transport: client.GuardedTransport()}
	// An external hub is the operator's own choice: it may be anywhere.
	pingClient := &http.Client{Timeout: 15 * time.Second}
	switch cfg.Server.WebSub {
	case "off":
	case "builtin", "":
		p.hubURL = cfg.Server.BaseURL + "/websub/hub"
		hubOpts.BaseURL = cfg.Server.BaseURL
		hubOpts.HubURL = p.hubURL
		hubOpts.Client = websubClient
		hubOpts.Logger = logger.With("component", "websub-hub")
		// Only the documents the publisher publishes can be subscribed
		// to: every configured feed's and source's, rendered or not.
		hubOpts.Topics = func(topic string) bool { return p.publisher.IsTopic(topic) }
		hubOpts.Limits = websub.HubLimits{
			ClientPending: cfg.Hub.ClientPending, ClientActive: cfg.Hub.ClientSubscriptions,
			HostPending: cfg.Hub.HostPending, HostActive: cfg.Hub.HostSubscriptions,
			Pending: cfg.Hub.MaxPending, Active: cfg.Hub.MaxSubscriptions,
		}
		hubOpts.Content = func(ctx context.Context, topic string) ([]byte, string, bool) {
			snap, ok := p.publisher.Topic(ctx, topic)
			if !ok {
				return nil, "", false
			}
			return snap.Body, snap.ContentType, true
		}
		p.hub = websub.NewHub(hubOpts, st)
	default: // an external hub
		p.hubURL = cfg.Server.WebSub
	}

	sources := cfg.DomainSources()
	var specs []publish.FeedSpec
	for _, f := range cfg.Feeds {
		include, exclude := f.Patterns()
		specs = append(specs, publish.FeedSpec{
			Name: f.Name, Title: f.Title, Description: f.Description,
			Sources: cfg.FeedSources(f), Limit: f.Limit,
			Dedupe: f.Dedupe, DedupeWindow: f.DedupeWindow,
			Include: include, Exclude: exclude,
			MaxAge: f.MaxAge, PerSourceLimit: f.PerSourceLimit, Backfill: f.Backfill,
		})
	}
	var subscribed func(context.Context) ([]string, error)
	if p.hub != nil {
		// The sources' own feeds are rendered on request; at a change,
		// only those the hub has subscribers for are rendered to be
		// delivered.
		subscribed = p.hub.SubscribedTopics
	}
	p.publisher = publish.New(publish.Options{
		Subscribed: subscribed,
		BaseURL:    cfg.Server.BaseURL,
		Version:    Version(),
		Hub:        p.hubURL,
		Logger:     logger.With("component", "publish"),
		Redactor:   cfg.Redactor(),
		OnPublish: func(changed []publish.Change) {
			if m != nil {
				for _, c := range changed {
					if c.Format == publish.Atom && !c.Source {
						m.Published(c.Name, c.Snapshot.Items)
					}
				}
			}
			p.announce(ctx, pingClient, changed, logger)
		},
	}, specs, sources, st)

	p.subscriber = websub.NewSubscriber(websub.SubscriberOptions{
		CallbackBase: cfg.Server.BaseURL + "/websub/callback/",
		Client:       websubClient,
		Logger:       logger.With("component", "websub-subscriber"),
	}, st, func(ctx context.Context, source string, body []byte, contentType string) error {
		return p.refresher.Ingest(ctx, source, body, contentType).Err
	})
	pushed := make(map[string]bool)
	for _, src := range cfg.Sources {
		pushed[src.Name] = src.WebSub
	}
	opts := refreshOptions(cfg, logger)
	// Processes on one store always share its sources through leases:
	// with PostgreSQL several daemons are the point, and on SQLite a
	// `feedmill fetch` may run beside the daemon; the two must not fetch
	// one source at once, nor the daemon fetch again on its next tick what
	// the command just fetched. The refresher claims, saves and releases
	// the sources finishing at the same moment in shared transactions, so
	// the leases cost little beside the fetches.
	opts.Coordinator, opts.Owner, opts.Lease = st, owner, cfg.Storage.Lease
	opts.OnResult = func(res refresh.Result) {
		if m != nil {
			observeResult(m, res)
		}
		// A source's own feeds are rendered on request, not at each
		// rebuild, so no rebuild tells which of them changed: an
		// external hub is pinged for a source's feeds when its refresh
		// changed items. (The built-in hub renders the subscribed ones.)
		if p.hub == nil && p.hubURL != "" && res.Changed() {
			topics := []string{
				publish.SourceFeedURL(cfg.Server.BaseURL, res.Source, publish.RSS),
				publish.SourceFeedURL(cfg.Server.BaseURL, res.Source, publish.Atom),
				publish.SourceFeedURL(cfg.Server.BaseURL, res.Source, publish.JSON),
			}
			go func() {
				if err := websub.Ping(ctx, pingClient, p.hubURL, topics...); err != nil {
					logger.Warn("websub ping", "hub", p.hubURL, "source", res.Source, "err", err)
				}
			}()
		}
		if p.onResult != nil {
			p.onResult(res)
		}
	}
	opts.OnChange = func(ctx context.Context) {
		if err := p.rebuild(ctx); err != nil {
			logger.Error("publish", "err", err)
		}
	}
	opts.OnHub = func(ctx context.Context, source, hub, topic string) {
		if !pushed[source] {
			return
		}
		if err := p.subscriber.Subscribe(ctx, source, hub, topic); err != nil {
			secrets := cfg.Redactor()
			logger.Warn("websub subscribe", "source", source, "hub", secrets.URL(hub), "topic", secrets.URL(topic), "err", secrets.Error(err))
		}
	}
	var err error
	p.refresher, err = refresh.New(sources, client, newParser(cfg, logger), st, opts)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newParser is the parser of feeds and pages that cfg asks for:
// normalize's rules, with the config's tracking parameters, behind scrape.
func newParser(cfg *config.Config, logger *slog.Logger) *scrape.Scraper {
	return scrape.New(newNormalizer(cfg, logger), logger.With("component", "scrape"))
}

// newNormalizer is normalize with the config's tracking parameters: what
// the parser builds items with, and what tells two spellings of one link
// apart or together (explain).
func newNormalizer(cfg *config.Config, logger *slog.Logger) *normalize.Normalizer {
	return normalize.New(normalize.Options{Logger: logger.With("component", "normalize"), TrackingParams: cfg.TrackingParams})
}

// refreshOptions are the refresher's options that come from cfg alone:
// every refresher, the daemon's and preview's, runs by them.
func refreshOptions(cfg *config.Config, logger *slog.Logger) refresh.Options {
	return refresh.Options{
		Workers:        refresh.Workers(cfg.Fetch.Concurrency),
		FullTextLimit:  cfg.Fetch.FullTextLimit,
		FullTextBudget: cfg.Fetch.FullTextBudget,
		BackoffMax:     cfg.Fetch.BackoffMax,
		Logger:         logger.With("component", "refresh"),
		Redactor:       cfg.Redactor(),
	}
}

// announce tells WebSub subscribers about changed feeds: the built-in hub
// delivers the new documents, an external hub is pinged to fetch them.
func (p *pipeline) announce(ctx context.Context, client *http.Client, changed []publish.Change, logger *slog.Logger) {
	switch {
	case p.hub != nil:
		for _, c := range changed {
			p.hub.Publish(c.URL, c.Snapshot.Body, c.Snapshot.ContentType)
		}
	case p.hubURL != "" && len(changed) > 0:
		topics := make([]string, len(changed))
		for i, c := range changed {
			topics[i] = c.URL
		}
		go func() {
			if err := websub.Ping(ctx, client, p.hubURL, topics...); err != nil {
				logger.Warn("websub ping", "hub", p.hubURL, "err", err)
			}
		}()
	}
}

// withStore loads the config at path, opens its store, runs fn with both
// and closes the store whatever fn returns.
func withStore(ctx context.Context, path string, stderr io.Writer, logger *slog.Logger, fn func(*config.Config, Store) error) (err error) {
	cfg, err := loadConfig(path, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	return fn(cfg, st)
}

// withPipeline is withStore with the pipeline built on the store.
func withPipeline(ctx context.Context, path string, stderr io.Writer, logger *slog.Logger, fn func(*pipeline) error) error {
	return withStore(ctx, path, stderr, logger, func(cfg *config.Config, st Store) error {
		client := newFetchClient(fetchOptions(cfg), logger)
		defer client.CloseIdleConnections()
		p, err := build(ctx, cfg, st, client, logger)
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// fetchOnce refreshes the sources req names once (see
// refresh.Refresher.RefreshNow) and prints a summary; exit status 1 when
// any source failed, 2 when a name or glob selects no source.
func fetchOnce(ctx context.Context, p *pipeline, req fetchRequest, stderr io.Writer) error {
	names, err := p.cfg.SelectSources(req.sources)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	pass := refresh.Pass{Force: req.force}
	if len(req.sources) > 0 {
		pass.Sources = names
	}
	results := p.refresher.RefreshNow(ctx, pass)
	failed := printSummary(stderr, results)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d sources failed", failed, len(results))}
	}
	return nil
}

// printSummary writes one line per source and a total; it returns how many
// sources failed, counting those that still wait for their retry after
// failing.
func printSummary(w io.Writer, results []refresh.Result) (failed int) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tNEW\tUPDATED\tRESULT")
	var changed, unchanged, skipped, waiting int
	for _, r := range results {
		status := "-"
		if r.Status != 0 {
			status = fmt.Sprint(r.Status)
		}
		outcome := "ok"
		switch {
		case r.Err != nil:
			failed++
			outcome = "error: " + r.Err.Error()
		case r.Skipped != "":
			// A source waiting for its retry after failures is still a
			// failing one: the pass's exit status says so, as it did
			// when every pass tried every source again.
			if r.Waiting() && r.Failures > 0 {
				failed++
			} else {
				skipped++
			}
			if r.Waiting() {
				waiting++
			}
			outcome = "skipped: " + r.Skipped
		case r.NotModified:
			unchanged++
			outcome = "not modified"
		case r.New+r.Updated > 0:
			changed++
		default:
			unchanged++
			outcome = "no new items"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", r.Source, status, r.New, r.Updated, outcome)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d sources: %d with new or updated items, %d unchanged, %d failed", len(results), changed, unchanged, failed)
	if skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", skipped)
	}
	fmt.Fprintln(w)
	if waiting > 0 {
		fmt.Fprintf(w, "%d not fetched: waiting after failures or a server's request to wait; -force fetches them now\n", waiting)
	}
	return failed
}

// hubHandler returns the built-in hub as a handler, or nil when there is
// none (a nil *Hub in an http.Handler would not be nil).
func hubHandler(h *websub.Hub) http.Handler {
	if h == nil {
		return nil
	}
	return h
}

// expire re-renders the published feeds when an item ages out of a feed
// with max_age: nothing else would, since the store did not change.
func (p *pipeline) expire(ctx context.Context, logger *slog.Logger) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if e := p.publisher.Expires(); !e.IsZero() && !now.Before(e) {
				if err := p.publisher.Rebuild(ctx); err != nil {
					logger.Error("publish", "err", err)
				}
			}
		}
	}
}

// dropSubscriptions unsubscribes from the hubs of sources that no longer
// ask for WebSub (or are gone from the config): the subscriber would renew
// them for ever otherwise.
func (p *pipeline) dropSubscriptions(ctx context.Context, logger *slog.Logger) {
	subs, err := p.store.SourceSubscriptions(ctx)
	if err != nil {
		logger.Warn("websub: list subscriptions", "err", err)
		return
	}
	wanted := make(map[string]bool)
	for _, src := range p.cfg.Sources {
		wanted[src.Name] = src.WebSub
	}
	for _, sub := range subs {
		if wanted[sub.Source] || sub.State == feed.SubscriptionUnsubscribed {
			continue
		}
		if err := p.subscriber.Unsubscribe(ctx, sub.Source); err != nil {
			logger.Warn("websub unsubscribe", "source", sub.Source, "hub", sub.Hub, "err", err)
		}
	}
}
