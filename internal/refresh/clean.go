package refresh

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/boilerplate"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// recent reads the source's most recent stored items, as many as its
// boilerplate model learns from. The model is learned from them and the
// fresh items (boilerplate.Learn(window(fresh, stored))).
func (r *Refresher) recent(ctx context.Context, source string) ([]feed.Item, error) {
	stored, err := r.store.Items(ctx, feed.Query{Sources: []string{source}, Limit: boilerplate.Window})
	if err != nil {
		return nil, fmt.Errorf("read recent items of %s: %w", source, err)
	}
	return stored, nil
}

// cleanFresh cleans fresh items with the model. An item whose raw text is
// the same as its stored copy's takes the stored cleaned text instead of
// being cleaned again (an HTML parse per item): if the model changed since,
// reclean brings every stored item up to date anyway. It returns the ids
// of the items it cleaned with the model.
func cleanFresh(m *boilerplate.Model, trees *boilerplate.Trees, fresh, stored []feed.Item) map[string]bool {
	byID := make(map[string]*feed.Item, len(stored))
	for i := range stored {
		byID[stored[i].ID] = &stored[i]
	}
	cleaned := make(map[string]bool, len(fresh))
	for i := range fresh {
		it := &fresh[i]
		if s := byID[it.ID]; s != nil && (s.RawContent != "" || s.RawSummary != "") &&
			s.RawContent == it.RawContent && s.RawSummary == it.RawSummary {
			it.Content, it.Summary = s.Content, s.Summary
			continue
		}
		clean(m, trees, it)
		cleaned[it.ID] = true
		// An HTML parse per item: let waiting goroutines (requests of a
		// serving daemon) in between items.
		runtime.Gosched()
	}
	return cleaned
}

// window merges fresh and stored items, newest first, each id once.
func window(fresh, stored []feed.Item) []feed.Item {
	seen := make(map[string]bool, len(fresh))
	all := make([]feed.Item, 0, len(fresh)+len(stored))
	for _, it := range fresh {
		if !seen[it.ID] {
			seen[it.ID] = true
			all = append(all, it)
		}
	}
	for _, it := range stored {
		if !seen[it.ID] {
			seen[it.ID] = true
			all = append(all, it)
		}
	}
	slices.SortStableFunc(all, func(a, b feed.Item) int { return b.Date().Compare(a.Date()) })
	if len(all) > boilerplate.Window {
		all = all[:boilerplate.Window]
	}
	return all
}

// setRaw records a fresh item's content as extracted, before any
// boilerplate is removed, and its summary as the feed gave it. A summary
// the feed did not give (derived is true: normalize made an excerpt of the
// content) is kept empty, so that cleaning derives it again from the
// cleaned content instead of baking furniture into it.
func setRaw(it *feed.Item, derived bool) {
	it.RawContent = it.Content
	it.RawSummary = it.Summary
	if derived {
		it.RawSummary = ""
	}
}

// keepRaw gives an item stored before raw fields existed its published
// summary and content as raw ones.
func keepRaw(it *feed.Item) {
	if it.RawSummary == "" && it.RawContent == "" {
		it.RawSummary, it.RawContent = it.Summary, it.Content
	}
}

// derivedSummaries reports, for each item, whether its summary is the
// excerpt normalize derives from the content for a feed that gives none.
func derivedSummaries(items []feed.Item) []bool {
	derived := make([]bool, len(items))
	for i, it := range items {
		// A derived summary is escaped plain text, never markup, and a
		// feed's own summary comes out of normalize as HTML: the cheap
		// test spares an HTML parse of every item's content.
		derived[i] = it.Summary == "" ||
			(!strings.ContainsRune(it.Summary, '<') && it.Summary == normalize.DeriveSummary(it.Content))
	}
	return derived
}

// clean sets the item's published summary and content from its raw ones
// with the model's furniture removed, and reports whether they changed.
func clean(m *boilerplate.Model, trees *boilerplate.Trees, it *feed.Item) bool {
	c := cleaned(m, trees, *it)
	changed := c.Item.Summary != it.Summary || c.Item.Content != it.Content
	*it = c.Item
	return changed
}

// reclean cleans every stored item of the source again with a changed
// model and saves those whose visible text changed; the store moves their
// update time, and leaves the others untouched. The items in done were
// just cleaned with m and stored: they are skipped (on a source's first
// refresh, that is all of them).
func (r *Refresher) reclean(ctx context.Context, src feed.Source, m *boilerplate.Model, trees *boilerplate.Trees, done map[string]bool, now time.Time) (int, error) {
	stored, err := r.store.Items(ctx, feed.Query{Sources: []string{src.Name}})
	if err != nil {
		return 0, fmt.Errorf("read items of %s: %w", src.Name, err)
	}
	var changed []feed.Item
	err = r.withCPU(ctx, func() {
		for _, it := range stored {
			if done[it.ID] {
				continue
			}
			if clean(m, trees, &it) {
				changed = append(changed, it)
			}
			runtime.Gosched()
		}
	})
	if err != nil {
		return 0, err
	}
	if len(changed) == 0 {
		return 0, nil
	}
	res, err := r.store.SaveItems(ctx, src.Name, changed, src.Keep(), now)
	if err != nil {
		return 0, fmt.Errorf("store cleaned items of %s: %w", src.Name, err)
	}
	r.log.Info("cleaned stored items", "source", src.Name, "items", res.Updated, "furniture", m.Key())
	return res.Updated, nil
}
