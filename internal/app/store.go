package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/store"
)

// Store is everything the parts of feedmill need of a store, which both
// drivers (store.SQLite, store.Postgres) provide.
type Store interface {
	SaveItems(ctx context.Context, source string, items []feed.Item, keep int, now time.Time) (feed.SaveResult, error)
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
	CountItems(ctx context.Context, sources []string) (int, error)
	Item(ctx context.Context, k feed.Key) (feed.Item, bool, error)
	State(ctx context.Context, source string) (feed.SourceState, error)
	SaveState(ctx context.Context, st feed.SourceState) error
	SaveStates(ctx context.Context, sts []feed.SourceState) error
	States(ctx context.Context) ([]feed.SourceState, error)
	GetArticle(ctx context.Context, url, rulesKey string) (feed.Article, bool, error)
	PutArticle(ctx context.Context, a feed.Article) error

	PutHubSubscription(ctx context.Context, sub feed.HubSubscription) error
	DeleteHubSubscription(ctx context.Context, topic, callback string) error
	HubSubscriptions(ctx context.Context, topic string, now time.Time) ([]feed.HubSubscription, error)
	ExpireHubSubscriptions(ctx context.Context, now time.Time) (int, error)
	HubSubscriptionCounts(ctx context.Context, client, host string, now time.Time) (feed.HubCounts, error)
	PutSourceSubscription(ctx context.Context, sub feed.SourceSubscription) error
	SourceSubscription(ctx context.Context, source string) (feed.SourceSubscription, bool, error)
	SourceSubscriptions(ctx context.Context) ([]feed.SourceSubscription, error)

	refresh.Coordinator
	// Version changes whenever any process changed items.
	Version(ctx context.Context) (int64, error)
	// Size is how many bytes the store occupies.
	Size(ctx context.Context) (int64, error)
	Close() error
}

// listener is a store that notifies changes as they are committed
// (PostgreSQL's LISTEN/NOTIFY).
type listener interface {
	Listen(ctx context.Context, fn func()) error
}

// openStore opens the store the config names.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (Store, error) {
	logger = logger.With("component", "store")
	switch cfg.Storage.Driver {
	case "postgres":
		return store.OpenPostgres(ctx, cfg.Storage.DSN, logger)
	case "sqlite", "":
		return store.OpenSQLite(ctx, cfg.Storage.DSN, logger)
	default:
		return nil, fmt.Errorf("storage driver %q is not supported; use sqlite or postgres", cfg.Storage.Driver)
	}
}

// instanceName names this process among the instances sharing a store:
// host, process id and a random part (a restarted process on the same host
// and pid must not inherit a dead one's leases).
func instanceName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "feedmill"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// daemonName names a `serve` process among those sharing cfg's store. On
// PostgreSQL it is instanceName: several daemons share the sources, and a
// restarted one must not inherit a dead one's leases. A SQLite file is
// served by the daemons of one host, which never shared its sources among
// themselves, and one restarted after a crash must take up at once the
// sources its predecessor died holding, not leave them for the length of
// a lease: so they share one name, that of the host. The leases still keep
// a `feedmill fetch` (named by instanceName) and the daemon off each
// other's sources.
func daemonName(cfg *config.Config) string {
	if cfg.Storage.Driver == "postgres" {
		return instanceName()
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "feedmill"
	}
	return host + ":serve"
}

// rebuild renders the published feeds again from the store, and remembers
// the store's version it read them at (read first: a change committed
// during the rebuild then counts as unseen).
func (p *pipeline) rebuild(ctx context.Context) error {
	v, verr := p.store.Version(ctx)
	if err := p.publisher.Rebuild(ctx); err != nil {
		return err
	}
	if verr == nil {
		p.seen.Store(v)
	}
	return nil
}

// watchChanges re-renders the feeds when another process changed items in
// the store: another instance on the same PostgreSQL, or `feedmill fetch`
// beside a daemon on SQLite. A store that notifies (PostgreSQL) is heard at
// once; every store is also polled each interval, for notifications lost
// with a connection and for SQLite, which has none. Changes this process
// made are rendered by its own refresher and not again here.
func (p *pipeline) watchChanges(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	kick := make(chan struct{}, 1)
	done := make(chan struct{})
	if l, ok := p.store.(listener); ok {
		go func() {
			defer close(done)
			if err := l.Listen(ctx, func() {
				select {
				case kick <- struct{}{}:
				default: // one is pending
				}
			}); err != nil && ctx.Err() == nil {
				logger.Error("listen for store changes", "err", err)
			}
		}()
	} else {
		close(done)
	}
	defer func() { <-done }()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
		v, err := p.store.Version(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				logger.Warn("read store version", "err", err)
			}
		case v != p.seen.Load():
			logger.Debug("store changed by another process", "version", v)
			if err := p.rebuild(ctx); err != nil && ctx.Err() == nil {
				logger.Error("publish", "err", err)
			}
		}
	}
}
