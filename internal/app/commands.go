package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/server"
	"github.com/feedmill/feedmill/internal/store"
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
	fmt.Fprintf(stdout, "%s: ok (%d sources, %d published feeds)\n", path, len(cfg.Sources), len(cfg.Feeds))
	return nil
}

// pipeline is the set of concrete parts built from one config.
type pipeline struct {
	cfg       *config.Config
	store     *store.SQLite
	publisher *publish.Publisher
	refresher *refresh.Refresher
}

func build(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*pipeline, error) {
	if cfg.Storage.Driver != "" && cfg.Storage.Driver != "sqlite" {
		return nil, fmt.Errorf("storage driver %q is not supported by this build; use sqlite", cfg.Storage.Driver)
	}
	st, err := store.OpenSQLite(ctx, cfg.Storage.DSN, logger.With("component", "store"))
	if err != nil {
		return nil, err
	}
	sources := cfg.DomainSources()
	var specs []publish.FeedSpec
	for _, f := range cfg.Feeds {
		specs = append(specs, publish.FeedSpec{
			Name: f.Name, Title: f.Title, Description: f.Description,
			Sources: cfg.FeedSources(f), Limit: f.Limit,
			Dedupe: f.Dedupe, DedupeWindow: f.DedupeWindow,
		})
	}
	pub := publish.New(publish.Options{BaseURL: cfg.Server.BaseURL, Version: Version(), Logger: logger.With("component", "publish")}, specs, sources, st)
	client := fetch.New(fetch.Options{
		Version:     Version(),
		UserAgent:   cfg.Fetch.UserAgent,
		Timeout:     cfg.Fetch.Timeout,
		MaxBody:     cfg.Fetch.MaxBody,
		Concurrency: cfg.Fetch.Concurrency,
		PerHost:     cfg.Fetch.PerHost,
		Logger:      logger.With("component", "fetch"),
	})
	norm := normalize.New(normalize.Options{Logger: logger.With("component", "normalize"), TrackingParams: cfg.TrackingParams})
	ref, err := refresh.New(sources, client, norm, st, refresh.Options{
		Workers:        cfg.Fetch.Concurrency,
		FullTextLimit:  cfg.Fetch.FullTextLimit,
		FullTextBudget: cfg.Fetch.FullTextBudget,
		Logger:         logger.With("component", "refresh"),
		OnChange: func(ctx context.Context) {
			if err := pub.Rebuild(ctx); err != nil {
				logger.Error("publish", "err", err)
			}
		},
	})
	if err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return &pipeline{cfg: cfg, store: st, publisher: pub, refresher: ref}, nil
}

// withPipeline loads the config at path, builds the pipeline, runs fn with
// it and closes the store whatever fn returns.
func withPipeline(ctx context.Context, path string, stderr io.Writer, logger *slog.Logger, fn func(*pipeline) error) (err error) {
	cfg, err := loadConfig(path, stderr)
	if err != nil {
		return err
	}
	p, err := build(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.store.Close()) }()
	return fn(p)
}

// fetchOnce refreshes every source once and prints a summary; exit status 1
// when any source failed.
func fetchOnce(ctx context.Context, p *pipeline, stderr io.Writer) error {
	results := p.refresher.RefreshAll(ctx, false)
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
// sources failed.
func printSummary(w io.Writer, results []refresh.Result) (failed int) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tNEW\tUPDATED\tRESULT")
	var changed, unchanged int
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
	fmt.Fprintf(w, "%d sources: %d with new or updated items, %d unchanged, %d failed\n", len(results), changed, unchanged, failed)
	return failed
}

// serve runs the daemon until ctx is cancelled (SIGINT/SIGTERM), then shuts
// down in order: stop accepting requests, let refreshes see the
// cancellation and finish, close the store.
func serve(ctx context.Context, p *pipeline, logger *slog.Logger) (err error) {
	cfg := p.cfg
	// Serve what the store already holds at once; refreshes follow.
	if err := p.publisher.Rebuild(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler: server.New(server.Options{
			BaseURL: cfg.Server.BaseURL, Version: Version(),
			Sources: cfg.DomainSources(), Logger: logger.With("component", "http"),
		}, p.publisher, p.store),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	logger.Info("serving", "listen", ln.Addr().String(), "url", cfg.Server.BaseURL+"/", "sources", len(cfg.Sources), "feeds", len(cfg.Feeds), "version", Version())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	refreshDone := make(chan struct{})
	go func() {
		defer close(refreshDone)
		p.refresher.Run(ctx)
	}()

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
		cancel()
	}
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
	}
	<-refreshDone
	logger.Info("stopped")
	return err
}
