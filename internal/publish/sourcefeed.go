package publish

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Every configured source is also published by itself, at
// /sources/NAME.rss, .atom and .json: its own newest items (DefaultLimit
// of them, its whole backlog included), cleaned as in the combined feeds,
// without archive pages. A Rebuild reads each source's newest items once
// and renders its documents only when they (or its attribution) changed,
// so a source that fetched nothing new costs one small read and no
// rendering, and the combined feeds never wait on these documents.

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

// SourceSnapshot returns the current rendering of the named source's own
// feed in format f. It reports false for an unknown source or format and
// before the first Rebuild that rendered it.
func (p *Publisher) SourceSnapshot(name string, f Format) (*Snapshot, bool) {
	set := p.cur.Load()
	if set == nil || f < 0 || f >= numFormats {
		return nil, false
	}
	fs, ok := set.sourceFeeds[name]
	if !ok {
		return nil, false
	}
	return fs.snaps[f], true
}

// Topic returns the current document whose public URL (its WebSub topic)
// is topic: a published feed's or a source's own, in any format. Archive
// pages never change and are no topics.
func (p *Publisher) Topic(topic string) (*Snapshot, bool) {
	set := p.cur.Load()
	if set == nil {
		return nil, false
	}
	for _, spec := range p.specs {
		for f := range numFormats {
			if FeedURL(p.base, spec.Name, f) == topic {
				return p.Snapshot(spec.Name, f)
			}
		}
	}
	for _, s := range p.sources {
		for f := range numFormats {
			if SourceFeedURL(p.base, s.Name, f) == topic {
				return p.SourceSnapshot(s.Name, f)
			}
		}
	}
	return nil, false
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

// buildSourceFeed reads the newest items of one source and renders its own
// feed, returning old itself, unrendered, when neither the items read nor
// the source's attribution changed.
func (p *Publisher) buildSourceFeed(ctx context.Context, name string, srcs map[string]sourceInfo, old *feedState, now time.Time) (*feedState, error) {
	info := source(srcs, name)
	spec := sourceSpec(info)
	items, err := p.store.Items(ctx, feed.Query{Sources: spec.Sources, Limit: spec.limit(), NoRaw: true})
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	window := p.history(spec, items)
	fp := fingerprint(p.seed, len(items), window, []sourceInfo{info})
	if old != nil && old.fp == fp {
		return old, nil
	}
	stories, _ := current(spec, window, srcs, now)
	d := p.document(spec, stories, srcs)
	d.hub, d.source = p.hub, true
	d.home = SourcePageURL(p.base, name)
	shown := make([]feed.Item, len(stories))
	for i, s := range stories {
		shown[i] = s.shown
	}
	fs := &feedState{spec: spec, stored: len(items), fp: fp}
	if _, err := renderSnapshots(d, shown, old, fs); err != nil {
		return nil, err
	}
	return fs, nil
}
