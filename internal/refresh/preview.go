package refresh

import (
	"context"
	"fmt"
	"slices"

	"github.com/feedmill/feedmill/internal/boilerplate"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
)

// Cleaned is an item as it would be published, with what learned
// boilerplate removal took out of it.
type Cleaned struct {
	Item    feed.Item
	Removed []boilerplate.Removal
}

// Preview is what a source's newest items would publish.
type Preview struct {
	Source   feed.Source
	Items    []Cleaned
	Learned  int // articles the boilerplate model learned from
	FullText fullTextStats
	// Page is set when the source is a web page without a feed: its items
	// came from the page, found with Page.Rules (the source's own, or the
	// ones inferred), or the page is one article (Page.Single).
	Page *scrape.Scraped
}

// Preview fetches the named source and runs it through normalizing, full
// text and cleaning exactly as a refresh would, without storing anything or
// touching the article cache, and returns its newest n items. It is for
// tuning a source's rules.
func (r *Refresher) Preview(ctx context.Context, name string, n int) (*Preview, error) {
	src, ok := r.source(name)
	if !ok {
		return nil, fmt.Errorf("no source named %q", name)
	}
	now := r.now().UTC()
	// The feed is fetched from where refreshes fetch it (where it moved,
	// or the feed found on the source's page), in full.
	st, err := r.store.State(ctx, name)
	if err != nil {
		return nil, err
	}
	st = st.For(src.URL)
	st.Name = name
	st.Validators = feed.Validators{}
	got, err := r.fetchFeed(ctx, src, &st, now)
	if err != nil {
		return nil, err
	}
	parsed := got.parsed
	if parsed == nil {
		return nil, fmt.Errorf("preview %s: unexpected 304 for an unconditional request", name)
	}
	derived := derivedSummaries(parsed.Items)
	p := &Preview{Source: src, Page: got.scraped, FullText: r.fullText(ctx, pageSource(src, got), parsed.Items, now, false)}
	for i := range parsed.Items {
		setRaw(&parsed.Items[i], derived[i])
	}
	stored, err := r.recent(ctx, src.Name)
	if err != nil {
		return nil, err
	}
	model, trees := boilerplate.LearnKeeping(window(parsed.Items, stored), parsed.Trees)
	p.Learned = model.Articles()
	items := parsed.Items
	slices.SortStableFunc(items, func(a, b feed.Item) int { return b.Date().Compare(a.Date()) })
	if n > 0 && len(items) > n {
		items = items[:n]
	}
	for _, it := range items {
		p.Items = append(p.Items, cleaned(model, trees, it))
	}
	return p, nil
}

// Explanation says what learned boilerplate removal does to a stored item.
type Explanation struct {
	Cleaned
	Learned int    // articles the model learned from
	Key     string // the furniture fingerprint
}

// Explain finds a stored item of the named source by its id or link and
// reports which of its blocks the source's current boilerplate model
// removes, and why.
func (r *Refresher) Explain(ctx context.Context, name, item string) (*Explanation, error) {
	if _, ok := r.source(name); !ok {
		return nil, fmt.Errorf("no source named %q", name)
	}
	stored, err := r.store.Items(ctx, feed.Query{Sources: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("read items of %s: %w", name, err)
	}
	i := slices.IndexFunc(stored, func(it feed.Item) bool { return it.ID == item || it.Link == item || it.PublicID() == item })
	if i < 0 {
		return nil, fmt.Errorf("source %s has no stored item with id or link %q", name, item)
	}
	model := boilerplate.Learn(window(nil, stored))
	return &Explanation{Cleaned: cleaned(model, nil, stored[i]), Learned: model.Articles(), Key: model.Key()}, nil
}

// cleaned returns the item with the model's furniture removed from its raw
// content and summary; an item without a raw summary gets an excerpt of its
// cleaned content.
func cleaned(m *boilerplate.Model, trees *boilerplate.Trees, it feed.Item) Cleaned {
	keepRaw(&it)
	content, tree, removed := m.CleanKept(it.RawContent, trees)
	var summary string
	switch {
	case it.RawSummary != "":
		var removedS []boilerplate.Removal
		summary, _, removedS = m.CleanKept(it.RawSummary, trees)
		removed = append(removedS, removed...)
	case tree != nil:
		// The excerpt of the cleaned content, from the tree cleaning
		// left: no parse of the content again.
		summary = normalize.SummaryOf(tree)
	default:
		// Only here: an excerpt is another HTML parse of the content,
		// wasted on an item whose feed gave a summary.
		summary = normalize.DeriveSummary(content)
	}
	it.Summary, it.Content = summary, content
	return Cleaned{Item: it, Removed: removed}
}

func (r *Refresher) source(name string) (feed.Source, bool) {
	i := slices.IndexFunc(r.sources, func(s feed.Source) bool { return s.Name == name })
	if i < 0 {
		return feed.Source{}, false
	}
	return r.sources[i], true
}
