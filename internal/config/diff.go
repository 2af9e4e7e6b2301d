package config

import (
	"reflect"
	"slices"
)

// Changes is what a new version of the config file does to its sources and
// published feeds, each list of names in file order (removed ones in the
// old file's order).
type Changes struct {
	SourcesAdded, SourcesRemoved, SourcesChanged []string
	FeedsAdded, FeedsRemoved, FeedsChanged       []string
}

// Diff compares the sources and feeds of two configs by name. A source or
// feed is changed when any of its settings differs; where it stands in the
// file does not count, nor does writing an empty list instead of leaving
// the key out. Settings outside sources and feeds (fetch limits, tracking
// parameters) are not compared, except that a source that follows the
// default schedule is changed when that default changes.
func Diff(old, next *Config) Changes {
	var c Changes
	c.SourcesAdded, c.SourcesRemoved, c.SourcesChanged = diffNamed(withSchedules(old), withSchedules(next),
		func(s Source) string { return s.Name }, sameSource)
	c.FeedsAdded, c.FeedsRemoved, c.FeedsChanged = diffNamed(old.Feeds, next.Feeds,
		func(f Feed) string { return f.Name }, sameFeed)
	return c
}

func diffNamed[T any](old, next []T, name func(T) string, same func(a, b T) bool) (added, removed, changed []string) {
	find := func(list []T, n string) (T, bool) {
		i := slices.IndexFunc(list, func(v T) bool { return name(v) == n })
		if i < 0 {
			var zero T
			return zero, false
		}
		return list[i], true
	}
	for _, v := range next {
		switch was, ok := find(old, name(v)); {
		case !ok:
			added = append(added, name(v))
		case !same(was, v):
			changed = append(changed, name(v))
		}
	}
	for _, v := range old {
		if _, ok := find(next, name(v)); !ok {
			removed = append(removed, name(v))
		}
	}
	return added, removed, changed
}

// withSchedules returns c's sources with the default schedule filled in
// where they have none of their own.
func withSchedules(c *Config) []Source {
	out := slices.Clone(c.Sources)
	for i := range out {
		if out[i].Schedule == "" {
			out[i].Schedule = c.Schedule
		}
	}
	return out
}

func sameSource(a, b Source) bool {
	a.Line, b.Line = 0, 0
	for _, s := range []*Source{&a, &b} {
		s.Categories = nilIfEmpty(s.Categories)
		s.Content.Remove = nilIfEmpty(s.Content.Remove)
		s.Rewrites = nilIfEmpty(s.Rewrites)
	}
	return reflect.DeepEqual(a, b)
}

func sameFeed(a, b Feed) bool {
	a.Line, b.Line = 0, 0
	for _, f := range []*Feed{&a, &b} {
		f.Sources = nilIfEmpty(f.Sources)
		f.Categories = nilIfEmpty(f.Categories)
		f.Include = nilIfEmpty(f.Include)
		f.Exclude = nilIfEmpty(f.Exclude)
	}
	return reflect.DeepEqual(a, b)
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
