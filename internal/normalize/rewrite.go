package normalize

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/feedmill/feedmill/internal/feed"
)

// rewrite is a compiled feed.Rewrite.
type rewrite struct {
	field   string // feed.FieldTitle, FieldSummary or FieldContent
	re      *regexp.Regexp
	replace string
}

// compileRewrites compiles the source's rewrites, each pattern once per
// Normalizer. An empty field means content, as in the configuration. A
// pattern that does not compile or an unknown field is an error naming the
// source and the pattern: the configuration checks both, so this is the
// second line of defence.
func (n *Normalizer) compileRewrites(src feed.Source) ([]rewrite, error) {
	if len(src.Rewrites) == 0 {
		return nil, nil
	}
	out := make([]rewrite, 0, len(src.Rewrites))
	for _, r := range src.Rewrites {
		field := r.Field
		switch field {
		case "":
			field = feed.FieldContent
		case feed.FieldTitle, feed.FieldSummary, feed.FieldContent:
		default:
			return nil, fmt.Errorf("source %s: rewrite %q: unknown field %q", src.Name, r.Pattern, r.Field)
		}
		re, err := n.compilePattern(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("source %s: rewrite pattern %q: %w", src.Name, r.Pattern, err)
		}
		out = append(out, rewrite{field: field, re: re, replace: r.Replace})
	}
	return out, nil
}

// compilePattern returns the compiled pattern from the cache, compiling it
// on first use. A *regexp.Regexp is safe for concurrent use.
func (n *Normalizer) compilePattern(pattern string) (*regexp.Regexp, error) {
	if re, ok := n.patterns.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	n.patterns.Store(pattern, re)
	return re, nil
}

// applyText applies the rewrites of field to plain text s, then collapses
// the whitespace a replacement may have left.
func applyText(rewrites []rewrite, field, s string) string {
	changed := false
	for _, r := range rewrites {
		if r.field == field {
			s = r.re.ReplaceAllString(s, r.replace)
			changed = true
		}
	}
	if !changed {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// applyHTML applies the rewrites of field to sanitized HTML s and, when any
// applied, sanitizes the result again: a replacement may inject markup, and
// what is published must still keep every promise of sanitizeHTML.
func (n *Normalizer) applyHTML(rewrites []rewrite, field, s string, base, page *url.URL) string {
	out, changed := s, false
	for _, r := range rewrites {
		if r.field == field {
			out = r.re.ReplaceAllString(out, r.replace)
			changed = true
		}
	}
	if !changed || out == s {
		return s
	}
	return n.sanitizeHTML(out, base, page)
}
