package config

import (
	"errors"
	"fmt"
	"slices"
)

// SelectSources returns the names of the sources that patterns name on a
// command line (`feedmill fetch news-* blog`), in config order and without
// repeats, by the rule that feeds[].sources entries follow: a name selects
// itself, a glob (path.Match) every source it matches. No patterns select
// every source.
//
// Every pattern must select something: the error names each one that
// selects nothing, one per line, with the source it was most likely meant
// to be ("unknown source "tech-new": did you mean "tech-news"?"), so that a
// typo is not taken for a pass that had nothing to do.
func (c *Config) SelectSources(patterns []string) ([]string, error) {
	names := make([]string, len(c.Sources))
	for i, s := range c.Sources {
		names[i] = s.Name
	}
	if len(patterns) == 0 {
		return names, nil
	}
	var problems []error
	for _, p := range patterns {
		if slices.ContainsFunc(names, func(name string) bool { return matchSource(p, name) }) {
			continue
		}
		what := "unknown source"
		if isGlob(p) {
			what = "no source matches"
		}
		msg := fmt.Sprintf("%s %s", what, quote(p))
		if s := Suggest(p, names); s != "" && !isGlob(p) {
			msg += fmt.Sprintf(": did you mean %s?", quote(s))
		}
		problems = append(problems, errors.New(msg))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	var out []string
	for _, name := range names {
		if slices.ContainsFunc(patterns, func(p string) bool { return matchSource(p, name) }) {
			out = append(out, name)
		}
	}
	return out, nil
}
