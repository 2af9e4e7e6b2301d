package refresh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// fetched is a source's feed as fetched: normalized, unless it was a 304.
type fetched struct {
	from   string // the URL requested: see feed.SourceState.FetchURL
	resp   *fetch.Response
	parsed *normalize.Feed // nil on a 304
	// discovered is set when the URL the state named was a web page and
	// from is the feed it advertises.
	discovered bool
	// scraped is set when the source is a web page without a feed whose
	// items were taken from the page itself (type: html, or a page that
	// advertises no feed).
	scraped *scrape.Scraped
}

// errNoFeedAdvertised reports a web page that advertises no feed: unless
// the source says it is a feed, the page itself is then the source.
var errNoFeedAdvertised = errors.New("advertises no feed")

// fetchFeed fetches the source's feed from where st says it is (see
// feed.SourceState.FetchURL), conditionally with st's validators, and
// normalizes it. A web page in place of a feed is searched for the feeds it
// advertises (autodiscovery) and the first that reads as a feed is used.
//
// On an error, fetched is still returned when a response arrived (its
// status is worth recording), nil otherwise. fetchFeed also writes into st
// what a failure teaches: a 410 of the configured feed (or of where it
// moved) marks it Gone, and a discovered feed that vanished (404, 410) or
// stopped being a feed is forgotten, so the next attempt searches the page
// again.
func (r *Refresher) fetchFeed(ctx context.Context, src feed.Source, st *feed.SourceState, now time.Time) (*fetched, error) {
	from := st.FetchURL(src.URL)
	fromDiscovered := st.Moved == "" && st.Discovered != ""
	resp, err := r.fetch.Fetch(ctx, from, st.Validators)
	if err != nil {
		se, _ := errors.AsType[*fetch.StatusError](err)
		switch {
		case se == nil:
		case fromDiscovered && (se.Code == http.StatusNotFound || se.Code == http.StatusGone):
			st.Discovered = ""
			return nil, fmt.Errorf("%w (the feed advertised by %s: the page is searched again next time)", err, r.redact(src.URL))
		case se.Code == http.StatusGone:
			st.Gone = true
			return nil, &goneError{url: r.redact(from), cause: err}
		}
		return nil, err
	}
	got := &fetched{from: from, resp: resp}
	if resp.NotModified {
		return got, nil
	}
	if src.Type == feed.TypeHTML {
		return got, r.scrape(ctx, src, got, now)
	}
	got.parsed, err = r.normalize(ctx, src, resp.Body, resp.URL, now)
	switch {
	case err == nil:
		return got, nil
	case !errors.Is(err, normalize.ErrNotAFeed):
		return got, err
	case fromDiscovered:
		st.Discovered = ""
		return got, fmt.Errorf("the feed advertised by %s is not a feed any more (the page is searched again next time): %w", r.redact(src.URL), err)
	}
	found, dresp, parsed, err := r.discover(ctx, src, resp, now)
	switch {
	case errors.Is(err, errNoFeedAdvertised) && src.Type == "":
		// A site without a feed: its page is the source.
		if serr := r.scrape(ctx, src, got, now); serr != nil {
			return got, fmt.Errorf("%w; nor does the page itself list articles or hold one: %w", err, serr)
		}
		return got, nil
	case err != nil:
		return got, err
	}
	return &fetched{from: found, resp: dresp, parsed: parsed, discovered: true}, nil
}

// discover finds the feeds the web page in page advertises (<link
// rel="alternate"> of a feed type) and returns the first of them that can
// be fetched and read as a feed, with its response and its normalized
// form (fetch.FirstFeed, trusting only the host of the configured source
// URL).
func (r *Refresher) discover(ctx context.Context, src feed.Source, page *fetch.Response, now time.Time) (string, *fetch.Response, *normalize.Feed, error) {
	var parsed *normalize.Feed
	link, resp, errs := fetch.FirstFeed(ctx, r.fetch, page, src.URL, r.secrets, func(_ string, resp *fetch.Response) (err error) {
		parsed, err = r.normalize(ctx, src, resp.Body, resp.URL, now)
		return err
	})
	if resp != nil {
		return link, resp, parsed, nil
	}
	switch len(errs) {
	case 0:
		return "", nil, nil, fmt.Errorf("%s is a web page that %w (no <link rel=\"alternate\"> to RSS, Atom or JSON Feed): %w",
			r.redact(page.URL), errNoFeedAdvertised, normalize.ErrNotAFeed)
	case 1:
		return "", nil, nil, fmt.Errorf("%s is a web page, and the feed it advertises cannot be read: %w", r.redact(page.URL), errs[0])
	}
	return "", nil, nil, fmt.Errorf("%s is a web page, and none of the %d feeds it advertises can be read: %w (and %d more)",
		r.redact(page.URL), len(errs), errs[0], len(errs)-1)
}

// scrape takes the source's items from the web page got holds, in a CPU
// slot: with the source's item rules, or from the listing found on the
// page, or the page as one article.
func (r *Refresher) scrape(ctx context.Context, src feed.Source, got *fetched, now time.Time) error {
	var sc *scrape.Scraped
	var err error
	if cerr := r.withCPU(ctx, func() { sc, err = r.parse.Scrape(src, got.resp.Body, got.resp.URL, now) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	got.parsed, got.scraped = sc.Feed, sc
	return nil
}

// noteMoved records in st where the feed was found: the feed discovered on
// the source's page, and where a permanent redirect took it. A move is
// logged at warn level once, with the config change that would save the
// redirect.
func (r *Refresher) noteMoved(src feed.Source, st *feed.SourceState, got *fetched) {
	if got.discovered {
		if st.Discovered != got.from {
			r.log.Info("feed discovered", "source", src.Name, "page", r.redact(src.URL), "feed", r.redact(got.from))
		}
		st.Discovered = got.from
		// Where the page moved no longer matters: the feed is fetched
		// from now on.
		st.Moved = ""
	}
	// A response without a permanent redirect keeps the move: it came
	// from where the feed moved to.
	switch moved := got.resp.Moved; moved {
	case "", st.Moved:
	case src.URL:
		st.Moved = "" // back where the config says
	default:
		r.log.Warn("feed moved permanently: update the source's url in feeds.yaml", "source", src.Name,
			"from", r.redact(got.from), "to", r.redact(moved))
		st.Moved = moved
	}
}

// goneError reports a feed that answered 410 Gone; it matches ErrGone and
// the fetch error.
type goneError struct {
	url   string
	cause error
}

func (e *goneError) Error() string   { return e.url + ": " + ErrGone.Error() }
func (e *goneError) Unwrap() []error { return []error{ErrGone, e.cause} }

// redact hides the secrets of a URL, for logs and messages.
func (r *Refresher) redact(rawURL string) string { return r.secrets.URL(rawURL) }
