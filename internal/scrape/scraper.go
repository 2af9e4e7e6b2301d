// Package scrape reads what is not a feed: a web page listing articles
// (Scrape, with the source's CSS selector rules or with rules it infers
// from the page), an article page (Extract, for sources whose feeds carry
// summaries only, and ArticleMeta, what a page says about its article),
// and a JSON API (FromJSON, with gjson path rules).
//
// Its items are built by the rules internal/normalize applies to a feed's
// (sanitizing, URL resolution, tracking parameters, date sanity, people,
// rewrites, field caps), which it takes from normalize, never re-states:
// normalize's pages.go is the whole of what it uses. Imports flow one way:
// scrape imports normalize, normalize knows nothing of scrape.
package scrape

import (
	"log/slog"
	"sync"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// Scraper reads web pages and JSON APIs into items. It is safe for
// concurrent use; the zero value is not usable, call New.
type Scraper struct {
	norm *normalize.Normalizer
	log  *slog.Logger

	// Compiled CSS selectors of the configuration, by their source text.
	// They come from the configuration, so the cache stays as small as it
	// is.
	selectors sync.Map // string -> cascadia.Selector
}

// New returns a Scraper that builds items with norm (its tracking
// parameters, its logger for what the caps cut) and logs what it extracts
// to logger (nil discards).
func New(norm *normalize.Normalizer, logger *slog.Logger) *Scraper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scraper{norm: norm, log: logger}
}

// Normalize reads the body of a source's feed URL: a JSON API (a source of
// type json with item rules) with FromJSON, whose rules are honoured even
// when the body happens to be a JSON Feed, and every other body as a feed
// with normalize.Normalizer.Normalize (a web page gives
// normalize.ErrNotAFeed; a caller that wants its items calls Scrape).
func (sc *Scraper) Normalize(src feed.Source, body []byte, baseURL string, now time.Time) (*normalize.Feed, error) {
	if src.Type == feed.TypeJSON && src.Items != nil {
		return sc.FromJSON(src, body, baseURL, now)
	}
	return sc.norm.Normalize(src, body, baseURL, now)
}
