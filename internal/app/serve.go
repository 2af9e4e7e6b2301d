package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/metrics"
	"github.com/feedmill/feedmill/internal/server"
)

// watchInterval is how often serve looks at the config file for changes.
const watchInterval = 2 * time.Second

// daemon is a running `feedmill serve`: one store, one HTTP listener, and
// the current generation of the pipeline, built anew from the config on
// each reload and swapped in while the listener keeps serving.
type daemon struct {
	path    string
	listen  string // -listen, overriding server.listen; "" for none
	store   Store
	metrics *metrics.Metrics // kept across reloads
	logger  *slog.Logger
	started time.Time

	// current answers every request; a reload swaps it atomically, so no
	// request ever waits for a reload.
	current atomic.Pointer[server.Server]
	// problems are those of the last config file that was rejected; nil
	// while the file is the running config.
	problems atomic.Pointer[[]string]

	// The rest belongs to the serve loop, which alone reloads.
	cfg        *config.Config // the running config
	sum        [sha256.Size]byte
	gen        *generation
	client     *fetch.Client
	clientOpts fetch.Options
	watch      configWatch
}

// generation is one pipeline with its HTTP handler and background loops.
type generation struct {
	p      *pipeline
	srv    *server.Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// stop cancels the generation's work and waits until its loops, and the
// refreshes and deliveries they run, have finished.
func (g *generation) stop() {
	g.cancel()
	g.wg.Wait()
}

// ServeHTTP hands the request to the current generation's server.
func (d *daemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.current.Load().ServeHTTP(w, r)
}

func (d *daemon) configProblems() []string {
	if p := d.problems.Load(); p != nil {
		return *p
	}
	return nil
}

// parse parses the config file's bytes data, with -listen applied.
func (d *daemon) parse(data []byte) (*config.Config, error) {
	cfg, err := config.Parse(data, d.path)
	if err == nil && d.listen != "" {
		cfg.Server.Listen = d.listen
	}
	return cfg, err
}

// serve runs the daemon until ctx is cancelled (SIGINT/SIGTERM), reloading
// the config on SIGHUP and when the file changes; then it shuts down in
// order: stop accepting requests, let refreshes see the cancellation and
// finish, close the store.
//
// listen, when set, overrides server.listen (several instances on one host
// share one feeds.yaml); base_url is still the config's.
func serve(ctx context.Context, path, listen string, stderr io.Writer, logger *slog.Logger) (err error) {
	// Registered first: SIGHUP's default action is to end the process,
	// and a daemon must survive a reload request from its first moment.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	d := &daemon{path: path, listen: listen, logger: logger, started: time.Now(), watch: configWatch{path: path}}
	data, _, err := d.watch.poll(true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &ExitError{Code: 2, Err: fmt.Errorf("invalid config %s", path)}
	}
	cfg, err := d.parse(data)
	if err != nil {
		printConfigErrors(stderr, err)
		return &ExitError{Code: 2, Err: fmt.Errorf("invalid config %s", path)}
	}
	if d.store, err = openStore(ctx, cfg, logger); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.store.Close()) }()
	d.metrics = newMetrics(d.store, logger)
	seedMetrics(ctx, d.metrics, d.store, logger)
	g, err := d.prepare(ctx, cfg)
	if err != nil {
		return err
	}
	d.adopt(cfg, data, g)
	defer func() { d.client.CloseIdleConnections() }()

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		g.cancel()
		return fmt.Errorf("serve: %w", err)
	}
	srv := server.HTTPServer(d, slog.NewLogLogger(logger.Handler(), slog.LevelDebug))
	logger.Info("serving", "listen", ln.Addr().String(), "url", cfg.Server.BaseURL+"/", "sources", len(cfg.Sources), "feeds", len(cfg.Feeds), "version", Version(), "config", path)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	d.run(g)
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down")
			break loop
		case err = <-serveErr:
			err = fmt.Errorf("serve: %w", err)
			break loop
		case <-hup:
			d.reload(ctx, "SIGHUP", true)
		case <-tick.C:
			d.reload(ctx, "file changed", false)
		}
	}
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
	}
	d.gen.stop()
	logger.Info("stopped")
	return err
}

// prepare builds a generation for cfg on the daemon's store and renders its
// feeds from what the store holds, without starting anything: a failure
// leaves the running generation untouched. The fetch client is shared with
// the running generation when the fetch settings did not change, so that
// per-host spacing and connections survive a reload.
func (d *daemon) prepare(ctx context.Context, cfg *config.Config) (*generation, error) {
	opts := fetchOptions(cfg)
	client := d.client
	if client == nil || opts != d.clientOpts {
		client = newFetchClient(opts, d.logger)
	}
	g := &generation{}
	g.ctx, g.cancel = context.WithCancel(ctx)
	p, err := buildWith(g.ctx, cfg, d.store, client, d.logger, d.metrics, daemonName(cfg))
	if err == nil {
		// Serve what the store already holds at once; refreshes follow.
		err = p.rebuild(g.ctx)
	}
	if err != nil {
		g.cancel()
		if client != d.client {
			client.CloseIdleConnections()
		}
		return nil, err
	}
	g.p = p
	g.srv = server.New(server.Options{
		BaseURL: cfg.Server.BaseURL, Version: Version(),
		Sources: cfg.DomainSources(), Logger: d.logger.With("component", "http"),
		Hub: p.hubURL, WebSubHub: hubHandler(p.hub), WebSubCallback: p.subscriber,
		Started: d.started, ConfigProblems: d.configProblems,
		Metrics: d.metrics.Handler(), Observer: d.metrics,
		Redactor: cfg.Redactor(),
	}, p.publisher, d.store)
	return g, nil
}

// adopt makes g, built from cfg (the file's bytes data), the running
// generation and its handler the current one.
func (d *daemon) adopt(cfg *config.Config, data []byte, g *generation) {
	if d.client != nil && d.client != g.p.client {
		d.client.CloseIdleConnections()
	}
	d.cfg, d.sum, d.gen = cfg, sha256.Sum256(data), g
	d.client, d.clientOpts = g.p.client, fetchOptions(cfg)
	d.problems.Store(nil)
	d.current.Store(g.srv)
}

// run starts the generation's background loops.
func (d *daemon) run(g *generation) {
	p, ctx := g.p, g.ctx
	g.wg.Go(func() { p.dropSubscriptions(ctx, d.logger) })
	g.wg.Go(func() { p.refresher.Run(ctx) })
	g.wg.Go(func() { p.subscriber.Run(ctx) })
	g.wg.Go(func() { p.expire(ctx, d.logger) })
	g.wg.Go(func() { p.watchChanges(ctx, p.cfg.Storage.Poll, d.logger) })
	g.wg.Go(func() { g.srv.Run(ctx) }) // the status page's items per day
	if p.hub != nil {
		g.wg.Go(func() { p.hub.Run(ctx) })
	}
}

// reload loads the config file again when force is set (SIGHUP) or when
// its content changed, and when it is valid and differs from the running
// one, swaps in a generation built from it. An invalid file is reported
// (log, status page, /healthz) and the running config kept. Sources added
// are fetched at once (they were never fetched, so they are due), and so
// are those whose URL, type or rules changed (refresh.Refetch); removed
// ones are no longer polled and leave the published feeds, their stored
// items staying in the store. The log line names what changed.
func (d *daemon) reload(ctx context.Context, trigger string, force bool) {
	data, changed, err := d.watch.poll(force)
	switch {
	case err != nil && force:
		d.logger.Error("config reload: keeping the running config", "trigger", trigger, "err", err)
		return
	case err != nil:
		// An editor replacing the file can leave it missing for a moment;
		// the next poll sees the new one.
		d.logger.Debug("config watch", "err", err)
		return
	case !force && !changed:
		return
	}
	if sha256.Sum256(data) == d.sum {
		if d.problems.Load() != nil {
			d.logger.Info("config file is back to the running config", "config", d.path)
		} else if force {
			d.logger.Info("config unchanged: nothing to reload", "config", d.path, "trigger", trigger)
		}
		d.problems.Store(nil)
		return
	}
	cfg, err := d.parse(data)
	if err != nil {
		problems := errorLines(err)
		d.logger.Error("config rejected: keeping the running config", "config", d.path, "trigger", trigger, "problems", len(problems))
		for _, p := range problems {
			d.logger.Error("invalid config", "problem", p)
		}
		d.problems.Store(&problems)
		return
	}
	d.restartOnly(cfg)
	g, err := d.prepare(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down
		}
		d.logger.Error("config reload failed: keeping the running config", "config", d.path, "trigger", trigger, "err", err)
		problems := []string{fmt.Sprintf("%s: %v", d.path, err)}
		d.problems.Store(&problems)
		return
	}
	old, oldCfg := d.gen, d.cfg
	// The new handler serves at once; the old generation then finishes
	// what it was doing (in-flight refreshes see their context end).
	d.current.Store(g.srv)
	old.stop()
	// What the old generation stored while it stopped reaches the feeds.
	if err := g.p.publisher.Rebuild(g.ctx); err != nil {
		d.logger.Error("publish", "err", err)
	}
	d.adopt(cfg, data, g)
	// Before the loops start: the sources whose URL or rules changed are
	// in the first pass, not at their next scheduled time.
	refetch := g.p.refresher.Reconfigured(oldCfg.DomainSources())
	d.run(g)
	changes := config.Diff(oldCfg, cfg)
	d.metrics.Forget(changes.SourcesRemoved)
	d.metrics.ForgetFeeds(changes.FeedsRemoved)
	d.logger.Info("config reloaded", reloadAttrs(d.path, trigger, cfg, changes, refetch)...)
}

// reloadAttrs are the attributes of the "config reloaded" line: the counts,
// then each non-empty list of names, sources first (added, removed,
// changed, and fetch_now: the changed ones fetched at once because how
// they are fetched or read changed), then feeds.
func reloadAttrs(path, trigger string, cfg *config.Config, c config.Changes, refetch []string) []any {
	attrs := []any{"config", path, "trigger", trigger, "sources", len(cfg.Sources), "feeds", len(cfg.Feeds)}
	for _, l := range []struct {
		key   string
		names []string
	}{
		{"added", c.SourcesAdded}, {"removed", c.SourcesRemoved}, {"changed", c.SourcesChanged}, {"fetch_now", refetch},
		{"feeds_added", c.FeedsAdded}, {"feeds_removed", c.FeedsRemoved}, {"feeds_changed", c.FeedsChanged},
	} {
		if len(l.names) > 0 {
			attrs = append(attrs, l.key, strings.Join(l.names, ","))
		}
	}
	return attrs
}

// restartOnly keeps the running values of the settings a reload cannot
// change in cfg (the listen address and the store), logging that they
// take effect at the next start.
func (d *daemon) restartOnly(cfg *config.Config) {
	if cfg.Server.Listen != d.cfg.Server.Listen {
		d.logger.Warn("server.listen changed: it takes effect when feedmill is restarted", "running", d.cfg.Server.Listen, "config", cfg.Server.Listen)
		cfg.Server.Listen = d.cfg.Server.Listen
	}
	if cfg.Storage != d.cfg.Storage {
		d.logger.Warn("storage changed: it takes effect when feedmill is restarted", "running", d.cfg.Storage.DSN, "config", cfg.Storage.DSN)
		cfg.Storage = d.cfg.Storage
	}
}

// errorLines splits a config error into its problems, one per line.
func errorLines(err error) []string {
	var out []string
	for line := range strings.SplitSeq(strings.TrimRight(err.Error(), "\n"), "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// configWatch notices changes of the config file by polling: its
// modification time and size first, which is cheap, then a hash of its
// content, so that a touch or a save of the same bytes is no change.
// Polling rather than inotify needs no dependency, works on every file
// system (network and bind mounts included) and with editors that replace
// the file instead of writing it, and a few seconds' delay does not matter
// for a config.
type configWatch struct {
	path    string
	modTime time.Time
	size    int64
	sum     [sha256.Size]byte
}

// poll reads the file when its modification time or size changed since the
// last poll, or always with force, and reports whether its content differs
// from what the last read saw. It returns no data when it did not read.
func (w *configWatch) poll(force bool) (data []byte, changed bool, err error) {
	// Stat before reading: a write after the stat moves the time again,
	// so the next poll reads the file again rather than missing it.
	fi, err := os.Stat(w.path)
	if err != nil {
		return nil, false, fmt.Errorf("read config: %w", err)
	}
	if !force && fi.ModTime().Equal(w.modTime) && fi.Size() == w.size {
		return nil, false, nil
	}
	data, err = os.ReadFile(w.path)
	if err != nil {
		return nil, false, fmt.Errorf("read config: %w", err)
	}
	w.modTime, w.size = fi.ModTime(), fi.Size()
	sum := sha256.Sum256(data)
	changed, w.sum = sum != w.sum, sum
	return data, changed, nil
}
