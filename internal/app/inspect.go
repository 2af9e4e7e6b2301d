package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/scrape"
)

// previewSource is `feedmill preview`: it loads the config and previews
// the named source on a refresher without a store (noStore), so that
// previewing creates, migrates and changes no database, whatever the
// config's storage says.
func previewSource(ctx context.Context, path, name string, n int, stdout, stderr io.Writer, logger *slog.Logger) error {
	cfg, err := loadConfig(path, stderr)
	if err != nil {
		return err
	}
	client := newFetchClient(fetchOptions(cfg), logger)
	defer client.CloseIdleConnections()
	r, err := refresh.New(cfg.DomainSources(), client, newParser(cfg, logger), noStore{}, refreshOptions(cfg, logger))
	if err != nil {
		return err
	}
	return preview(ctx, cfg, r, name, n, stdout)
}

// preview prints what a source's newest items would publish after
// extraction and cleaning, without storing anything.
func preview(ctx context.Context, cfg *config.Config, r *refresh.Refresher, name string, n int, stdout io.Writer) error {
	pv, err := r.Preview(ctx, name, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "source %s (%s)\n", pv.Source.Name, cfg.Redactor().URL(pv.Source.URL))
	if pg := pv.Page; pg != nil {
		printPage(stdout, pv.Source, pg)
	}
	if pv.Source.FullText || (pv.Page != nil && pv.Page.NeedPages) {
		ft := pv.FullText
		fmt.Fprintf(stdout, "full text: %d pages extracted, %d failed, %d left for later\n", ft.Fetched, ft.Failed, ft.Skipped)
	}
	fmt.Fprintf(stdout, "learned boilerplate from %d recent articles\n", pv.Learned)
	for _, c := range pv.Items {
		printCleaned(stdout, c)
	}
	return nil
}

// errNoStore is what noStore answers a write with.
var errNoStore = errors.New("feedmill preview stores nothing")

// noStore is the store of `feedmill preview`: it holds nothing, so that a
// source is previewed as one never fetched (its boilerplate is learned from
// the items the preview fetches), and it refuses every write, so that a
// write preview must not make fails loudly instead of landing anywhere.
type noStore struct{}

func (noStore) SaveItems(context.Context, string, []feed.Item, int, time.Time) (feed.SaveResult, error) {
	return feed.SaveResult{}, errNoStore
}

func (noStore) Items(context.Context, feed.Query) ([]feed.Item, error) { return nil, nil }

func (noStore) State(_ context.Context, source string) (feed.SourceState, error) {
	return feed.SourceState{Name: source}, nil
}

// States knows no source: each is never fetched, as State says.
func (noStore) States(context.Context) ([]feed.SourceState, error) { return nil, nil }

func (noStore) SaveState(context.Context, feed.SourceState) error { return errNoStore }

func (noStore) SaveStates(context.Context, []feed.SourceState) error { return errNoStore }

func (noStore) GetArticle(context.Context, string, string) (feed.Article, bool, error) {
	return feed.Article{}, false, nil
}

func (noStore) PutArticle(context.Context, feed.Article) error { return errNoStore }

// printPage says how the items of a web page source were found: the page
// as one article, or a listing with the selectors used, which the user may
// copy into feeds.yaml to fix them.
func printPage(w io.Writer, src feed.Source, pg *scrape.Scraped) {
	switch {
	case pg.Single:
		fmt.Fprintln(w, "the page is one article: it is the source's one item, and no other page is followed")
		return
	case pg.Rules == nil:
		return
	case src.Items != nil:
		fmt.Fprintln(w, "items found on the page with the source's selectors:")
	default:
		fmt.Fprintln(w, "the page has no feed; feedmill found its listing with these selectors (copy them into feeds.yaml to fix them):")
	}
	r := pg.Rules
	fmt.Fprintf(w, "    type: html\n    items:\n")
	for _, kv := range config.ItemRuleFields(r) {
		if kv[1] != "" {
			fmt.Fprintf(w, "      %s: %q\n", kv[0], kv[1])
		}
	}
	if pg.Skipped > 0 {
		fmt.Fprintf(w, "(%d matched elements had no usable link and were skipped)\n", pg.Skipped)
	}
	if pg.NeedPages {
		fmt.Fprintln(w, "each item's title, date, author and text come from its article page")
	}
}

// explain prints which blocks learned boilerplate removal takes out of a
// stored item, and why. The item may be given by its id or by its link as
// the source's feed has it (see findItem).
func explain(ctx context.Context, p *pipeline, source, item string, stdout io.Writer, logger *slog.Logger) error {
	id, err := findItem(ctx, p.store, newNormalizer(p.cfg, logger), source, item)
	if err != nil {
		return err
	}
	ex, err := p.refresher.Explain(ctx, source, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "source %s: learned from %d recent articles", source, ex.Learned)
	if ex.Key != "" {
		fmt.Fprintf(stdout, " (furniture %s)", ex.Key)
	}
	fmt.Fprintln(stdout)
	printCleaned(stdout, ex.Cleaned)
	if len(ex.Removed) == 0 {
		fmt.Fprintln(stdout, "\nnothing was removed: no block of this item recurs across enough of the source's articles")
	}
	return nil
}

// itemReader is what findItem reads of a store.
type itemReader interface {
	Items(ctx context.Context, q feed.Query) ([]feed.Item, error)
}

// findItem returns what names the stored item of source that a person
// means by item: item itself when it is an item's id, public id or stored
// link, else the id of the one item whose link is item as it appears in
// the source's feed or a browser's address bar: with tracking parameters,
// a fragment, http for https, a trailing slash, another case of the host
// (normalize's LinkKey). When no item matches, item is returned as it is,
// for the refresher to say so; when several do, it is an error naming
// them.
func findItem(ctx context.Context, st itemReader, n *normalize.Normalizer, source, item string) (string, error) {
	stored, err := st.Items(ctx, feed.Query{Sources: []string{source}, NoRaw: true})
	if err != nil {
		return "", fmt.Errorf("read items of %s: %w", source, err)
	}
	for _, it := range stored {
		if it.ID == item || it.Link == item || it.PublicID() == item {
			return item, nil
		}
	}
	key := n.LinkKey(item)
	if key == "" {
		return item, nil
	}
	var ids []string
	for _, it := range stored {
		if n.LinkKey(it.Link) == key || n.LinkKey(it.Canonical) == key {
			ids = append(ids, it.ID)
		}
	}
	switch len(ids) {
	case 0:
		return item, nil
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("source %s has %d stored items with the link %s (ids %s): give one's id", source, len(ids), item, strings.Join(ids, ", "))
}

func printCleaned(w io.Writer, c refresh.Cleaned) {
	it := c.Item
	fmt.Fprintf(w, "\n== %s\n", it.Title)
	if it.Link != "" {
		fmt.Fprintf(w, "   link:      %s\n", it.Link)
	}
	if it.Canonical != "" && it.Canonical != it.Link {
		fmt.Fprintf(w, "   canonical: %s\n", it.Canonical)
	}
	fmt.Fprintf(w, "   id:        %s\n", it.ID)
	if d := it.Date(); !d.IsZero() {
		fmt.Fprintf(w, "   date:      %s\n", d.UTC().Format(time.RFC3339))
	}
	if s := htmlText(it.Summary); s != "" {
		fmt.Fprintf(w, "   summary:   %s\n", s)
	}
	if text := htmlText(it.Content); text != "" {
		fmt.Fprintln(w)
		for para := range strings.SplitSeq(text, "\n") {
			fmt.Fprintf(w, "   %s\n", para)
		}
	}
	if len(c.Removed) > 0 {
		fmt.Fprintf(w, "\n   removed as the site's furniture:\n")
		for _, r := range c.Removed {
			fmt.Fprintf(w, "   - %s\n", r)
		}
	}
}

// htmlText renders an HTML fragment as plain text, one line per block.
func htmlText(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			var lines []string
			for line := range strings.SplitSeq(b.String(), "\n") {
				if line = strings.Join(strings.Fields(line), " "); line != "" {
					lines = append(lines, line)
				}
			}
			return strings.Join(lines, "\n")
		case html.TextToken:
			b.WriteString(strings.ReplaceAll(string(z.Text()), "\n", " "))
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "div", "br", "figcaption", "tr", "ul", "ol", "figure":
				b.WriteString("\n")
			}
		}
	}
}
