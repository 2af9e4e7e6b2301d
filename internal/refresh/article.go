package refresh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// articleRetry is how long a page that could not be fetched or extracted
// is left alone before it is tried again.
const articleRetry = 24 * time.Hour

// articleCache keeps extractions of article pages, so a page is fetched once
// per item and rules, not on every refresh.
type articleCache interface {
	GetArticle(ctx context.Context, url, rulesKey string) (feed.Article, bool, error)
	PutArticle(ctx context.Context, a feed.Article) error
}

// fullTextStats counts what the full-text step did in one refresh.
type fullTextStats struct {
	Fetched, Cached, Failed, Skipped int
}

// fullText replaces each item's content by the article extracted from its
// page, when the source asks for it and the feed does not already carry
// full articles. At most limit pages are fetched and only while the
// budget lasts; items left over keep the feed's content and get their turn
// on a later refresh. With useCache false (preview) nothing is read from or
// written to the cache.
func (r *Refresher) fullText(ctx context.Context, src feed.Source, items []feed.Item, now time.Time, useCache bool) fullTextStats {
	var stats fullTextStats
	if !src.FullText || len(items) == 0 || normalize.HasFullContent(items) {
		return stats
	}
	ctx, cancel := context.WithTimeout(ctx, r.fullTextBudget)
	defer cancel()
	rules := src.RulesKey()
	fetched := 0
	for i := range items {
		it := &items[i]
		if it.Link == "" {
			continue
		}
		hash := itemHash(*it)
		if useCache {
			a, ok, err := r.store.GetArticle(ctx, it.Link, rules)
			if err != nil {
				r.log.Warn("read article cache", "source", src.Name, "url", it.Link, "err", err)
			}
			if ok && a.ItemHash == hash {
				if a.Err == "" {
					stats.Cached++
					applyArticle(it, a)
					continue
				}
				if now.Sub(a.Fetched) < articleRetry {
					stats.Skipped++
					continue
				}
			}
		}
		if fetched >= r.fullTextLimit || ctx.Err() != nil {
			stats.Skipped++
			continue
		}
		key := "article:" + it.Link
		if ok, err := r.claimKey(ctx, key); !ok {
			// Another instance is fetching the page (or the store
			// cannot say): the item keeps the feed's content this
			// time, and finds the page in the cache next time.
			if err != nil {
				r.log.Warn("claim article", "source", src.Name, "url", it.Link, "err", err)
			}
			stats.Skipped++
			continue
		}
		fetched++
		a := r.extract(ctx, src, it.Link, rules, hash, now)
		if a.Err != "" {
			stats.Failed++
			r.log.Warn("full text", "source", src.Name, "url", it.Link, "err", a.Err)
		} else {
			stats.Fetched++
			applyArticle(it, a)
		}
		// A failure caused by our own deadline says nothing about the page:
		// do not remember it as broken.
		if useCache && !(a.Err != "" && ctx.Err() != nil) {
			if err := r.store.PutArticle(context.WithoutCancel(ctx), a); err != nil {
				r.log.Warn("write article cache", "source", src.Name, "url", it.Link, "err", err)
			}
		}
		r.releaseKey(ctx, key)
	}
	if stats != (fullTextStats{}) {
		r.log.Debug("full text", "source", src.Name, "fetched", stats.Fetched, "cached", stats.Cached, "failed", stats.Failed, "skipped", stats.Skipped)
	}
	return stats
}

// extract fetches one article page and extracts the article; failures are
// returned inside the Article, to be cached like successes. The page's URL
// comes from the feed, so it is fetched through the address guard: it may
// reach a private address only on the host of the configured source URL
// (an intranet source linking to its own pages).
func (r *Refresher) extract(ctx context.Context, src feed.Source, url, rules, hash string, now time.Time) feed.Article {
	a := feed.Article{URL: url, RulesKey: rules, ItemHash: hash, Fetched: now}
	resp, err := r.fetch.FetchPage(ctx, url, src.URL)
	if err == nil && resp.NotModified {
		err = errors.New("unexpected 304 for an unconditional request")
	}
	if err != nil {
		a.Err = err.Error()
		return a
	}
	a.FinalURL = resp.URL
	art, err := r.parse.Extract(src, resp.Body, resp.URL)
	if err != nil {
		a.Err = fmt.Sprintf("extract %s: %v", url, err)
		return a
	}
	a.Title, a.Content, a.Canonical = art.Title, art.Content, art.Canonical
	a.Published, a.Updated, a.Author = art.Published, art.Updated, art.Author
	// A page dated more than a day ahead has a wrong clock or a template
	// bug: such a date counts as none, as in feeds.
	if feed.DateTooFarAhead(a.Published, now) {
		a.Published = time.Time{}
	}
	if feed.DateTooFarAhead(a.Updated, now) {
		a.Updated = time.Time{}
	}
	return a
}

// applyArticle makes the extracted article the item's content. The feed's
// summary stays the summary (an excerpt derived for a feed without one is
// derived again from the cleaned article: see setRaw).
func applyArticle(it *feed.Item, a feed.Article) {
	it.Content = a.Content
	if a.Canonical != "" {
		it.Canonical = a.Canonical
	}
	// A listing's teaser may cut its headline short: the page's is whole.
	if a.Title != "" && (it.Title == "" || strings.HasSuffix(it.Title, "…") || strings.HasSuffix(it.Title, "...")) {
		it.Title = a.Title
	}
	// What the page says of its article dates and credits an item that
	// came without (one of a web page's listing, typically); a feed's
	// own dates and authors win.
	if it.Published.IsZero() {
		it.Published = a.Published
	}
	if it.Updated.IsZero() {
		it.Updated = a.Updated
	}
	if len(it.Authors) == 0 && a.Author != "" {
		it.Authors = []feed.Person{{Name: a.Author}}
	}
}

// itemHash fingerprints what the feed says about an item, so a cached
// extraction is reused while the item stays the same and redone when the
// feed changes it.
func itemHash(it feed.Item) string {
	h := sha256.New()
	for _, s := range []string{it.Link, it.Title, it.Summary, it.Content} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
