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
	// A web page's items are completed from their pages, which know
	// their own dates and authors better than the listing's teasers.
	pageWins := src.Type == feed.TypeHTML
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
					applyArticle(it, a, pageWins)
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
			applyArticle(it, a, pageWins)
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
	a.Published, a.Updated, a.Author, a.Image = art.Published, art.Updated, art.Author, art.Image
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
// derived again from the cleaned article: see setRaw). The page's picture
// becomes the item's when it has none.
//
// What the page says of its article dates and credits the item. With
// pageWins (the items of a web page's listing) the page is the better
// witness: its date and author replace the listing's, except that a date
// without a time of day never replaces a timestamp of the same day. For a
// feed's items the feed's own dates and authors win and the page only
// fills in what the feed left out.
func applyArticle(it *feed.Item, a feed.Article, pageWins bool) {
	it.Content = a.Content
	if a.Canonical != "" {
		it.Canonical = a.Canonical
	}
	// A listing's teaser may cut its headline short: the page's is whole.
	if a.Title != "" && (it.Title == "" || strings.HasSuffix(it.Title, "…") || strings.HasSuffix(it.Title, "...")) {
		it.Title = a.Title
	}
	// A listing's picture is a thumbnail of the page's lead picture: the
	// page's own, when it names one, is the item's.
	if it.Image == "" || pageWins && a.Image != "" {
		it.Image = a.Image
	}
	if pageWins {
		it.Published = betterDate(a.Published, it.Published)
		it.Updated = betterDate(a.Updated, it.Updated)
		if a.Author != "" {
			it.Authors = []feed.Person{{Name: a.Author}}
		}
		return
	}
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

// betterDate returns the page's date over the listing's, unless the page
// gives none, or gives only a day (midnight UTC, as a date without a time
// reads) on which the listing's timestamp falls.
func betterDate(page, listing time.Time) time.Time {
	switch {
	case page.IsZero():
		return listing
	case listing.IsZero():
		return page
	case dateOnly(page) && !dateOnly(listing) && sameDay(page, listing):
		return listing
	}
	return page
}

// dateOnly reports whether t is a day without a time of day: midnight UTC,
// as a date given without one is read.
func dateOnly(t time.Time) bool {
	t = t.UTC()
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
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
