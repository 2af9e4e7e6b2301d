package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// addOptions are the flags of `feedmill add`.
type addOptions struct {
	name       string   // -name; "" to derive one from the feed's title
	categories []string // -category, in order
}

// addSource is `feedmill add URL`: it fetches URL with the fetch client
// the config describes; when that is a feed, it is the source, and when it
// is a web page, the first feed the page advertises (<link
// rel="alternate">) that reads as one is. A web page that advertises no
// feed is added as a type html source when `preview` would find items on
// it (inferPage), with the listing's inferred selectors as its items and
// full_text on, so that its items get their article pages' text. The
// source is appended to the
// config's sources with a name made from the feed's title (or opts.name)
// and opts.categories by config.AddSource, which edits the file as
// `feedmill import` does: every other line, comments included, stays as it
// was, and nothing is written unless the result is a valid config. A URL
// that is already a source is refused.
//
// Command line mistakes (a URL that is not http(s), a bad -name) are exit
// status 2, an invalid config too; everything else is 1.
func addSource(ctx context.Context, path, rawURL string, opts addOptions, stdout, stderr io.Writer, logger *slog.Logger) error {
	target, err := checkAddURL(rawURL)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	// The config's secret parameter names are known once it is read.
	secrets := feed.Redactor{}
	shown := secrets.URL(target)
	// -name takes every name sources: takes, by the config's own rule.
	if opts.name != "" {
		if err := config.CheckSourceName(opts.name); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("-name: %w", err)}
		}
	}
	var categories []string
	for _, c := range opts.categories {
		c = strings.Join(strings.Fields(c), " ")
		if c == "" || strings.ContainsFunc(c, unicode.IsControl) {
			return &ExitError{Code: 2, Err: fmt.Errorf("-category %q: a category is a non-empty line of text", c)}
		}
		categories = append(categories, c)
	}

	cfg, err := loadForAdd(path, stderr)
	if err != nil {
		return err
	}
	secrets = cfg.Redactor()
	shown = secrets.URL(target)
	byURL := make(map[string]string, len(cfg.Sources))
	used := make(map[string]bool, len(cfg.Sources))
	for _, s := range cfg.Sources {
		byURL[strings.TrimSpace(s.URL)] = s.Name
		// Import keeps names unique without regard to case.
		used[strings.ToLower(s.Name)] = true
	}
	if name, dup := byURL[target]; dup {
		return fmt.Errorf("add %s: %s already has it, as source %s", shown, path, name)
	}
	if opts.name != "" && used[strings.ToLower(opts.name)] {
		return fmt.Errorf("add %s: %s already has a source named %s; choose another -name", shown, path, opts.name)
	}

	client := newFetchClient(fetchOptions(cfg), logger)
	defer client.CloseIdleConnections()
	normalizer := newNormalizer(cfg, logger)
	found, err := locateFeed(ctx, client, normalizer, target, secrets)
	if errors.Is(err, errNoFeed) {
		found, err = inferPage(scrape.New(normalizer, logger.With("component", "scrape")), target, found.page, secrets, stdout)
	}
	if err != nil {
		return fmt.Errorf("add %s: %w", shown, err)
	}
	if found.url != target {
		if name, dup := byURL[found.url]; dup {
			return fmt.Errorf("add %s: its feed %s is already source %s of %s", shown, secrets.URL(found.url), name, path)
		}
	}
	switch {
	case found.discovered:
		fmt.Fprintf(stdout, "%s is a web page; it advertises the feed %s\n", shown, secrets.URL(found.url))
	case found.moved:
		fmt.Fprintf(stdout, "%s moved permanently to %s; adding the new address\n", shown, secrets.URL(found.url))
	}

	name := opts.name
	if name == "" {
		name = config.SourceName(found.title, found.url, used)
	}
	// The file may have gained the URL or the name since it was read above.
	err = config.AddSource(path, config.NewSource{Name: name, URL: found.url, Categories: categories, Type: found.typ, Items: found.items, FullText: found.fullText})
	switch {
	case errors.Is(err, config.ErrURLTaken):
		return fmt.Errorf("add %s: %s already has it", shown, path)
	case errors.Is(err, config.ErrNameTaken):
		return fmt.Errorf("add %s: %s already has a source named %s; choose another -name", shown, path, name)
	case err != nil:
		return fmt.Errorf("add %s: %w", shown, err)
	}

	// AddSource checked its result before writing it; read the file as it
	// is now, as the daemon will.
	after, err := config.Load(path)
	if err != nil {
		printConfigErrors(stderr, err)
		return fmt.Errorf("add %s: %s is not valid after adding source %s", shown, path, name)
	}
	if !hasSource(after, name, found.url) {
		return fmt.Errorf("add %s: source %s is not in %s after writing it", shown, name, path)
	}
	kind := ""
	if found.typ != "" {
		kind = ", type " + found.typ
	}
	if found.fullText {
		kind += ", full_text: true"
	}
	fmt.Fprintf(stdout, "%s: added source %s (%s%s)\n", path, name, secrets.URL(found.url), kind)
	return nil
}

// loadForAdd loads the config at path as loadConfig does, except that a
// file without sources (an empty file, one with only settings, or with
// `sources:` empty) is accepted (config.LoadDraft): adding the first
// source is what makes it valid. Its other settings are checked, and its
// fetch settings used, as they would be with a source.
func loadForAdd(path string, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.LoadDraft(path)
	if err != nil {
		printConfigErrors(stderr, err)
		return nil, &ExitError{Code: 2, Err: fmt.Errorf("invalid config %s", path)}
	}
	return cfg, nil
}

// checkAddURL trims rawURL and makes sure it is an absolute http(s) URL
// with a host, as a source URL must be. A URL typed without a scheme
// ("blog.example/news", "blog.example:8443") is taken as https; one with
// another scheme ("mailto:") is refused.
func checkAddURL(rawURL string) (string, error) {
	s := strings.TrimSpace(rawURL)
	if s != "" && !strings.Contains(s, "://") {
		// "host:port" parses as scheme "host" with a numeric opaque part.
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || (u.Opaque != "" && u.Opaque[0] >= '0' && u.Opaque[0] <= '9') {
			s = "https://" + s
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", rawURL)
	}
	return s, nil
}

// hasSource reports whether cfg has a source named name with URL u.
func hasSource(cfg *config.Config, name, u string) bool {
	for _, s := range cfg.Sources {
		if s.Name == name {
			return strings.TrimSpace(s.URL) == u
		}
	}
	return false
}

// located is the feed `add` found.
type located struct {
	url        string // where to fetch the feed: the source's URL
	title      string // the feed's own title; may be empty
	discovered bool   // url was advertised by the page the user gave
	moved      bool   // url is where the user's URL moved permanently
	// For a web page without a feed: typ is "html", and items the rules
	// inference found its listing with (nil for a page that is one
	// article); fullText is set with items, as a listing's items are
	// teasers whose text, date and author are on their article pages.
	// page is the fetched page, set with errNoFeed.
	typ      string
	items    *feed.ItemRules
	fullText bool
	page     *fetch.Response
}

// errNoFeed is locateFeed's error for a web page that advertises no feed.
var errNoFeed = errors.New("not a feed, and not a web page that advertises one (no <link rel=\"alternate\"> to RSS, Atom or JSON Feed)")

// inferPage makes a type html source of the web page at rawURL, fetched
// as page, when it has no feed: what `feedmill preview` would find on it
// (a listing and the selectors it was found with, or one article) is
// printed, and the listing's selectors are the source's items, with
// full_text on: once written, the rules are the source's own, and Scrape
// completes items from their article pages only when the rules give no
// date (Scraped.NeedPages), while an inferred listing always is; full_text
// keeps what preview showed. A page on which neither is found is refused.
func inferPage(sc *scrape.Scraper, rawURL string, page *fetch.Response, secrets feed.Redactor, stdout io.Writer) (located, error) {
	src := feed.Source{Name: secrets.URL(rawURL), URL: rawURL, Type: feed.TypeHTML}
	got, err := sc.Scrape(src, page.Body, page.URL, time.Now().UTC())
	if err != nil {
		return located{}, fmt.Errorf("%w, and no listing or article found on it: %w", errNoFeed, err)
	}
	fmt.Fprintf(stdout, "%s is a web page without a feed; feedmill reads it as one (type: html), finding %d items\n", secrets.URL(rawURL), len(got.Feed.Items))
	printPage(stdout, src, got)
	return located{url: rawURL, title: got.Feed.Title, typ: feed.TypeHTML, items: got.Rules, fullText: got.Rules != nil && got.NeedPages}, nil
}

// locateFeed fetches rawURL, the operator's own URL (so it may point at
// any address, like a configured source), and reads it as a feed. A web
// page's advertised feeds are tried as the refresher tries them
// (fetch.FirstFeed, trusting only rawURL's host): the first that reads as
// a feed is the one.
func locateFeed(ctx context.Context, client *fetch.Client, n *normalize.Normalizer, rawURL string, secrets feed.Redactor) (located, error) {
	now := time.Now().UTC()
	resp, err := client.Fetch(ctx, rawURL, feed.Validators{})
	if err != nil {
		return located{}, err
	}
	src := feed.Source{Name: secrets.URL(rawURL), URL: rawURL}
	parsed, err := n.Normalize(src, resp.Body, resp.URL, now)
	if err == nil {
		found := located{url: rawURL, title: parsed.Title}
		if resp.Moved != "" && resp.Moved != rawURL {
			found.url, found.moved = resp.Moved, true
		}
		return found, nil
	}
	if !errors.Is(err, normalize.ErrNotAFeed) {
		return located{}, fmt.Errorf("not a feed feedmill can read: %w", err)
	}

	link, _, errs := fetch.FirstFeed(ctx, client, resp, rawURL, secrets, func(link string, page *fetch.Response) error {
		src := feed.Source{Name: secrets.URL(link), URL: link}
		parsed, err = n.Normalize(src, page.Body, page.URL, now)
		return err
	})
	if link != "" {
		return located{url: link, title: parsed.Title, discovered: true}, nil
	}
	switch len(errs) {
	case 0:
		return located{page: resp}, errNoFeed
	case 1:
		return located{}, fmt.Errorf("a web page whose feed cannot be read: %w", errs[0])
	}
	return located{}, fmt.Errorf("a web page, and none of the %d feeds tried can be read: %w", len(errs), errors.Join(errs...))
}
