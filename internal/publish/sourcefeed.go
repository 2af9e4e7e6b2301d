package publish

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/feedmill/feedmill/internal/feed"
)

// Every configured source is also published by itself, at
// /sources/NAME.rss, .atom and .json: its own newest items (DefaultLimit
// of them, its whole backlog included), cleaned as in the combined feeds,
// without archive pages.
//
// These documents are rendered on demand, not by Rebuild: an install of
// 10,000 sources would otherwise read 10,000 windows and render and gzip
// 30,000 documents at every change, and hold them all. A request renders
// one document (one indexed read of the source's newest items) and keeps
// it in a bounded cache (see sourceCache) tagged with the generation of
// the Rebuild it was rendered under; a Rebuild only starts a new
// generation, which makes every cached document stale. A stale document
// is rendered again on its next request and kept as it was (same
// snapshot, same ETag and Last-Modified) when its bytes did not change,
// so readers keep getting their 304s. Rebuild renders only the documents
// that WebSub subscribers read (Options.Subscribed), to deliver them when
// they changed.

// SourceFeedURL returns the public URL of a source's own feed: baseURL +
// "/sources/" + name + ".rss", ".atom" or ".json".
func SourceFeedURL(baseURL, name string, f Format) string {
	return strings.TrimRight(baseURL, "/") + "/sources/" + url.PathEscape(name) + "." + f.String()
}

// SourcePageURL returns the public URL of a source's HTML page, the
// alternate link of its own feed.
func SourcePageURL(baseURL, name string) string {
	return strings.TrimRight(baseURL, "/") + "/sources/" + url.PathEscape(name)
}

// ErrNotReady is returned for a source's own feed before the first
// Rebuild: which sources exist and how they are attributed is known from
// then on.
var ErrNotReady = errors.New("not rendered yet")

// SourceSnapshot returns the current rendering of the named source's own
// feed in format f, rendering it when the cache holds none of the current
// generation. It returns an error wrapping ErrNotFound for an unknown
// source or format, ErrNotReady before the first Rebuild, and the store's
// error when the source's items cannot be read. Concurrent calls for one
// document render it once; a caller waiting for another's rendering gives
// up when ctx ends.
func (p *Publisher) SourceSnapshot(ctx context.Context, name string, f Format) (*Snapshot, error) {
	if f < 0 || f >= numFormats {
		return nil, fmt.Errorf("publish: feed of source %q: unknown format %d: %w", name, int(f), ErrNotFound)
	}
	if _, ok := p.prio[name]; !ok {
		return nil, fmt.Errorf("publish: feed of source %q: unknown source: %w", name, ErrNotFound)
	}
	set := p.cur.Load()
	if set == nil {
		return nil, fmt.Errorf("publish: feed of source %q: %w", name, ErrNotReady)
	}
	s, err := p.sourceDocs.get(ctx, sourceKey{name: name, f: f}, set.gen, func(ctx context.Context, old *Snapshot) (*Snapshot, error) {
		return p.renderSource(ctx, set, name, f, old)
	})
	if err != nil {
		return nil, fmt.Errorf("publish: feed of source %q: %w", name, err)
	}
	return s, nil
}

// IsTopic reports whether topic is the public URL (the WebSub topic) of a
// current document: a published feed's or a configured source's own, in
// any format. It renders nothing, so every source's feed can be
// subscribed to before anyone has read it.
func (p *Publisher) IsTopic(topic string) bool {
	_, ok := p.topics[topic]
	return ok
}

// Topic returns the current document whose public URL (its WebSub topic)
// is topic: a published feed's or a source's own, in any format, the
// latter rendered when needed (see SourceSnapshot). Archive pages never
// change and are no topics. The hub delivers it to a new subscriber, so
// a source's document returned here counts as delivered: the next
// Rebuild reports it changed only when its bytes differ.
func (p *Publisher) Topic(ctx context.Context, topic string) (*Snapshot, bool) {
	t, ok := p.topics[topic]
	if !ok {
		return nil, false
	}
	if !t.source {
		return p.Snapshot(t.name, t.f)
	}
	set := p.cur.Load()
	s, err := p.SourceSnapshot(ctx, t.name, t.f)
	if err != nil {
		if !errors.Is(err, ErrNotReady) {
			p.log.Warn("websub content", "topic", topic, "err", err)
		}
		return nil, false
	}
	p.delivered.note(topic, s.ETag, set.gen)
	return s, true
}

// topic is what a WebSub topic names.
type topic struct {
	name   string
	f      Format
	source bool // a source's own feed, else a published feed
}

// topicMap maps the public URL of every current document to what it names.
func topicMap(base string, specs []FeedSpec, sources []feed.Source) map[string]topic {
	out := make(map[string]topic, int(numFormats)*(len(specs)+len(sources)))
	for _, s := range sources {
		for f := range numFormats {
			out[SourceFeedURL(base, s.Name, f)] = topic{name: s.Name, f: f, source: true}
		}
	}
	// A feed's URL wins over a source's (they differ by /feeds/ and
	// /sources/, so this is only for definiteness).
	for _, s := range specs {
		for f := range numFormats {
			out[FeedURL(base, s.Name, f)] = topic{name: s.Name, f: f}
		}
	}
	return out
}

// sourceSpec is the spec of a source's own feed.
func sourceSpec(info sourceInfo) FeedSpec {
	return FeedSpec{
		Name:     info.name,
		Title:    info.title,
		Sources:  []string{info.name},
		Limit:    DefaultLimit,
		Dedupe:   DedupeNone,
		Backfill: -1,
	}
}

// renderSource reads the newest items of one source and renders its own
// feed in format f, as of set (the attribution of the Rebuild that
// published it). It returns old itself when the bytes did not change.
func (p *Publisher) renderSource(ctx context.Context, set *snapshotSet, name string, f Format, old *Snapshot) (*Snapshot, error) {
	if p.onSourceRender != nil {
		p.onSourceRender(name, f)
	}
	info := source(set.srcs, name)
	spec := sourceSpec(info)
	items, err := p.store.Items(ctx, feed.Query{Sources: spec.Sources, Limit: spec.limit(), NoRaw: true})
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	window := p.history(spec, items)
	stories, _ := current(spec, window, set.srcs, p.now())
	d := p.document(spec, stories, set.srcs)
	d.hub, d.source = p.hub, true
	d.home = SourcePageURL(p.base, name)
	body, err := render(d, f)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", f, err)
	}
	s, err := reuseOrNew(old, body, d.updated, f.ContentType(), len(d.entries))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	if s != old {
		s.Entries = make([]feed.Item, len(stories))
		for i, st := range stories {
			s.Entries[i] = st.shown
		}
	}
	return s, nil
}

// sourceChanges renders, at the end of a Rebuild that published set, the
// sources' own documents that WebSub subscribers read, and returns those
// whose bytes differ from what they were last delivered. The first
// Rebuild only records them (a start is not new content); a document
// subscribed to since, whose delivered version is not known, is reported.
// A document that fails to render is logged and left to the next Rebuild.
func (p *Publisher) sourceChanges(ctx context.Context, set *snapshotSet, first bool) []Change {
	if p.subscribed == nil {
		return nil
	}
	topics, err := p.subscribed(ctx)
	if err != nil {
		p.log.Error("publish: list subscribed topics", "err", err)
		return nil
	}
	var changes []Change
	watched := make(map[string]bool, len(topics))
	for _, u := range topics {
		t, ok := p.topics[u]
		if !ok || !t.source {
			continue
		}
		watched[u] = true
		s, err := p.SourceSnapshot(ctx, t.name, t.f)
		if err != nil {
			p.log.Warn("publish: render a subscribed source feed", "source", t.name, "format", t.f, "err", err)
			continue
		}
		if p.delivered.swap(u, s.ETag, set.gen) || first {
			continue
		}
		changes = append(changes, Change{Name: t.name, Source: true, Format: t.f, URL: u, Snapshot: s})
	}
	p.delivered.retain(watched)
	return changes
}
