package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// The article cache is bounded so that months of full-text sources cannot
// grow the database without end. An entry older than articleMaxAge is of no
// use anyway: its item has long left the feed, and a failed fetch that old
// deserves a new try. articleMaxRows caps the cache for setups with many
// busy sources; at a few tens of KB per article it stays near a gigabyte.
const (
	articleMaxAge  = 90 * 24 * time.Hour
	articleMaxRows = 50000
)

// checkArticle validates a cache entry before it is written. Fetched must
// be set: it orders the pruning, and PutArticle takes it as the current
// time.
func checkArticle(a feed.Article) error {
	if strings.TrimSpace(a.URL) == "" {
		return errors.New("empty url")
	}
	if a.Fetched.IsZero() {
		return errors.New("zero fetch time")
	}
	if err := checkTime(a.Fetched); err != nil {
		return fmt.Errorf("fetched: %w", err)
	}
	for _, t := range []namedTime{{"published", a.Published}, {"updated", a.Updated}} {
		if !t.t.IsZero() {
			if err := checkTime(t.t); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	return nil
}

// GetArticle returns the cached extraction of the page url made under the
// rules rulesKey names, and whether there is one. An entry made under other
// rules is another entry: it is not returned. Fetched comes back in UTC,
// truncated to the microsecond; every other field exactly as put.
func (e *engine) GetArticle(ctx context.Context, url, rulesKey string) (feed.Article, bool, error) {
	if strings.TrimSpace(url) == "" {
		return feed.Article{}, false, errors.New("get article: empty url")
	}
	a := feed.Article{URL: url, RulesKey: rulesKey}
	var fetched, published, updated int64
	err := e.read.queryRow(ctx, getArticleQuery, url, rulesKey).Scan(&a.FinalURL, &a.Canonical, &a.Title, &a.Content, &a.ItemHash, &a.Err, &fetched,
		&published, &updated, &a.Author, &a.Image)
	if isNoRows(err) {
		return feed.Article{}, false, nil
	}
	if err != nil {
		return feed.Article{}, false, fmt.Errorf("get article %s: %w", url, err)
	}
	a.Fetched = fromMicros(fetched)
	a.Published, a.Updated = optionalMicros(published), optionalMicros(updated)
	return a, true, nil
}

// getArticleQuery reads one cache entry by its primary key.
const getArticleQuery = `SELECT final_url, canonical, title, content, item_hash, err, fetched,
	published, updated, author, image
	FROM articles WHERE url = ? AND rules_key = ?`

// optionalMicros is fromMicros for a time stored as 0 when absent.
func optionalMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}

// optionalTime is toMicros for a time that may be zero (stored as 0).
func optionalTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMicros(t)
}

// PutArticle stores a in the article cache, replacing every field of the
// entry with the same URL and RulesKey; failures (a.Err set) are stored like
// extractions, so that the caller can wait before trying a page again.
// a.URL and a.Fetched must be set. a.Fetched is taken as the current time:
// in the same transaction the cache drops the entries fetched more than 90
// days before it, then the oldest by Fetched beyond the newest 50,000. The
// entry just put is therefore kept unless 50,000 newer ones exist.
func (e *engine) PutArticle(ctx context.Context, a feed.Article) error {
	if err := checkArticle(a); err != nil {
		return fmt.Errorf("put article %s: %w", a.URL, err)
	}
	fetched := toMicros(a.Fetched)
	var aged, capped int64
	err := e.write(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `INSERT INTO articles
			(url, rules_key, final_url, canonical, title, content, item_hash, err, fetched, published, updated, author, image)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (url, rules_key) DO UPDATE SET
			final_url = excluded.final_url, canonical = excluded.canonical,
			title = excluded.title, content = excluded.content,
			item_hash = excluded.item_hash, err = excluded.err, fetched = excluded.fetched,
			published = excluded.published, updated = excluded.updated, author = excluded.author,
			image = excluded.image`,
			a.URL, a.RulesKey, a.FinalURL, a.Canonical, a.Title, a.Content, a.ItemHash, a.Err,
			fetched, optionalTime(a.Published), optionalTime(a.Updated), a.Author, a.Image); err != nil {
			return err
		}
		var err error
		aged, capped, err = e.pruneArticles(ctx, q, fetched)
		return err
	})
	if err != nil {
		return fmt.Errorf("put article %s: %w", a.URL, err)
	}
	if aged+capped > 0 {
		e.logger.DebugContext(ctx, "article cache pruned", "expired", aged, "over_limit", capped)
	}
	return nil
}

// expireArticlesQuery deletes the articles fetched before ?.
const expireArticlesQuery = `DELETE FROM articles WHERE fetched < ?`

// pruneArticlesQuery deletes every article beyond the newest ? ones, by
// fetched then rowid (an entry's rowid stays when it is replaced, so ties
// go the same way each time). It walks articles_by_fetched newest first,
// which holds exactly these keys, instead of sorting the table.
const pruneArticlesQuery = `DELETE FROM articles WHERE rowid IN (
	SELECT rowid FROM articles INDEXED BY articles_by_fetched
	ORDER BY fetched DESC, rowid DESC LIMIT -1 OFFSET ?)`

// sqlitePruneArticles deletes the articles beyond the newest keep.
func sqlitePruneArticles(ctx context.Context, q querier, keep int64) (int64, error) {
	return q.exec(ctx, pruneArticlesQuery, keep)
}

// PostgreSQL has no rowid: ties go by key, which its articles_by_fetched
// holds after fetched. Its planner estimates a range bounded by a subquery
// at a third of the table, and scans the whole table for it, so the
// pruning takes two statements: pgArticlesCutoffQuery finds the newest
// entry beyond the newest ? in the index (LIMIT 1 makes it walk it, as
// SQLite does), usually none; pgPruneArticlesQuery then deletes it and
// every entry older by the same order, one range of the index.
const (
	pgArticlesCutoffQuery = `SELECT fetched, url, rules_key FROM articles
	ORDER BY fetched DESC, url DESC, rules_key DESC LIMIT 1 OFFSET ?`
	pgPruneArticlesQuery = `DELETE FROM articles WHERE (fetched, url, rules_key) <= (?, ?, ?)`
)

// pgPruneArticles deletes the articles beyond the newest keep.
func pgPruneArticles(ctx context.Context, q querier, keep int64) (int64, error) {
	var fetched int64
	var url, rulesKey string
	err := q.queryRow(ctx, pgArticlesCutoffQuery, keep).Scan(&fetched, &url, &rulesKey)
	if isNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return q.exec(ctx, pgPruneArticlesQuery, fetched, url, rulesKey)
}

// pruneArticles applies the cache bounds as of now (in microseconds) and
// reports how many entries each removed.
func (e *engine) pruneArticles(ctx context.Context, q querier, now int64) (aged, capped int64, err error) {
	cutoff := now - e.articleMaxAge.Microseconds()
	if aged, err = q.exec(ctx, expireArticlesQuery, cutoff); err != nil {
		return 0, 0, fmt.Errorf("prune expired articles: %w", err)
	}
	if capped, err = e.sql.pruneArticles(ctx, q, int64(e.articleMaxRows)); err != nil {
		return 0, 0, fmt.Errorf("prune articles over the limit: %w", err)
	}
	return aged, capped, nil
}
