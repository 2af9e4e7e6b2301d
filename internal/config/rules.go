package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"github.com/feedmill/feedmill/internal/feed"
)

// This file checks the keys that tell feedmill how to clean a source's
// articles: CSS selectors, rewrites and tracking parameters. Each check
// compiles the value the way its user at run time will, because those users
// fail quietly: goquery treats an invalid selector as one that matches
// nothing, so a typo in `remove` would leave the donation box in place
// without a word.

// validateSourceRules checks the content rules and rewrites of the source at
// path p.
func (d *decoder) validateSourceRules(p string, s Source) {
	d.validateItemRules(p, s)
	if _, set := d.lines[p+".content.select"]; set {
		if strings.TrimSpace(s.Content.Select) == "" {
			d.check(p+".content.select", "empty (leave the key out to let feedmill find the article itself)")
		} else {
			d.check(p+".content.select", checkSelector(s.Content.Select))
		}
	}
	for j, sel := range s.Content.Remove {
		ep := fmt.Sprintf("%s.content.remove[%d]", p, j)
		if strings.TrimSpace(sel) == "" {
			d.check(ep, "empty selector")
		} else {
			d.check(ep, checkSelector(sel))
		}
	}
	for j, r := range s.Rewrites {
		ep := fmt.Sprintf("%s.rewrite[%d]", p, j)
		if !d.ok(ep) {
			continue
		}
		switch r.Field {
		case feed.FieldTitle, feed.FieldSummary, feed.FieldContent:
		default:
			d.check(ep+".field", fmt.Sprintf("unknown field %s (want %s, %s or %s)",
				quote(r.Field), feed.FieldTitle, feed.FieldSummary, feed.FieldContent))
		}
		if r.Pattern == "" {
			// An empty pattern matches between every two characters.
			d.check(ep+".pattern", "required")
			continue
		}
		re, problem := compilePattern(r.Pattern)
		if problem != "" {
			d.check(ep+".pattern", problem)
			continue
		}
		d.check(ep+".replace", checkReplace(re, r.Replace))
	}
}

// checkSelector reports what is wrong with a CSS selector, or "". It uses
// the parser goquery's Find uses, so what passes here selects there.
func checkSelector(sel string) (problem string) {
	// A guard, as with cron: the parser is not ours and the input is the
	// user's, and a config check must never take the program down.
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("invalid CSS selector %s: %v", quote(sel), r)
		}
	}()
	if _, err := cascadia.Compile(sel); err != nil {
		return fmt.Sprintf("invalid CSS selector %s: %v", quote(sel), err)
	}
	return ""
}

// compilePattern compiles a rewrite pattern, or reports why it does not.
func compilePattern(pattern string) (*regexp.Regexp, string) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Sprintf("invalid regular expression %s: %s",
			quote(pattern), strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, ""
}

// checkReplace reports the first group reference in repl that re does not
// have, or "". regexp.Expand replaces such a reference with nothing, which
// makes "$1st" (a group named "1st") a silent deletion; the check reads the
// template the way Expand does.
func checkReplace(re *regexp.Regexp, repl string) string {
	rest := repl
	for {
		_, after, found := strings.Cut(rest, "$")
		if !found {
			return ""
		}
		if strings.HasPrefix(after, "$") {
			rest = after[1:]
			continue
		}
		name, num, tail, ok := templateRef(after)
		if !ok {
			// Expand copies a "$" that starts no reference as it is.
			rest = after
			continue
		}
		ref := "$" + after[:len(after)-len(tail)]
		rest = tail
		switch digits := leadingDigits(name); {
		case num >= 0 && num <= re.NumSubexp(), num < 0 && re.SubexpIndex(name) >= 0:
		case num >= 0:
			return fmt.Sprintf("refers to group %s, but the pattern has %s (write $$ for a literal $)",
				ref, groupCount(re.NumSubexp()))
		case digits != "" && digits != name && !strings.HasPrefix(ref, "${"):
			return fmt.Sprintf("refers to group %s, which the pattern does not have (write ${%s}%s for group %s followed by %s, or $$ for a literal $)",
				ref, digits, name[len(digits):], digits, quote(name[len(digits):]))
		default:
			return fmt.Sprintf("refers to group %s, which the pattern does not have (write $$ for a literal $)", ref)
		}
	}
}

// templateRef reads the group reference at the start of s, which follows a
// "$" in a replacement template: a name of letters, digits and '_', or the
// same in braces. num is the group number when the name is one (without
// leading zeros), else -1. It follows regexp.Expand, which documents the
// syntax but does not export its reader.
func templateRef(s string) (name string, num int, tail string, ok bool) {
	brace := strings.HasPrefix(s, "{")
	if brace {
		s = s[1:]
	}
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			break
		}
		i += size
	}
	if i == 0 {
		return "", 0, "", false
	}
	name, tail = s[:i], s[i:]
	if brace {
		if !strings.HasPrefix(tail, "}") {
			return "", 0, "", false
		}
		tail = tail[1:]
	}
	num = -1
	if digits := leadingDigits(name); digits == name && (name == "0" || name[0] != '0') && len(name) <= 9 {
		num = 0
		for _, c := range name {
			num = num*10 + int(c-'0')
		}
	}
	return name, num, tail, true
}

// leadingDigits returns the ASCII digits s starts with.
func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func groupCount(n int) string {
	switch n {
	case 0:
		return "no groups"
	case 1:
		return "1 group"
	}
	return fmt.Sprintf("%d groups", n)
}

// validTrackingParam accepts a query parameter name of ASCII letters,
// digits, '.', '_' and '-', optionally ending in '*' to match every name it
// is a prefix of. A lone "*" would strip every query, so it is refused.
func validTrackingParam(s string) bool {
	s = strings.TrimSuffix(s, "*")
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// validSecretParam reports whether s can name a secret query parameter:
// the characters of parameter names, at least one of which a feed.Redactor
// matches on (letters and digits: the others only separate words).
func validSecretParam(s string) bool {
	alnum := false
	for _, r := range s {
		switch {
		case isAlnum(r):
			alnum = true
		case r != '.' && r != '_' && r != '-' && r != '[' && r != ']':
			return false
		}
	}
	return alnum
}

// itemFields are the keys of a source's items: rules besides each, in the
// order messages name them.
var itemFields = []string{"title", "link", "date", "summary", "content", "image", "author"}

// validateItemRules checks the type of the source at path p and its items
// rules: CSS selectors (with an optional @attribute) for an html page,
// gjson paths for a json document. The rules need a type that says which.
func (d *decoder) validateItemRules(p string, s Source) {
	switch s.Type {
	case "", feed.TypeFeed, feed.TypeHTML, feed.TypeJSON:
	default:
		d.check(p+".type", fmt.Sprintf("unknown type %s (want %s, %s or %s; leave it out to detect it)",
			quote(s.Type), feed.TypeFeed, feed.TypeHTML, feed.TypeJSON))
		return
	}
	r := s.Items
	if r == nil || !d.ok(p+".items") {
		return
	}
	if s.Type != feed.TypeHTML && s.Type != feed.TypeJSON {
		d.check(p+".items", "needs type: html (CSS selectors) or type: json (gjson paths) on the source")
		return
	}
	value := map[string]string{
		"title": r.Title, "link": r.Link, "date": r.Date, "summary": r.Summary,
		"content": r.Content, "image": r.Image, "author": r.Author,
	}
	if strings.TrimSpace(r.Each) == "" {
		d.check(p+".items.each", "required: the "+map[string]string{feed.TypeHTML: "CSS selector of one item", feed.TypeJSON: "gjson path of the array of items"}[s.Type])
	} else if s.Type == feed.TypeHTML {
		d.check(p+".items.each", checkSelector(r.Each))
	} else {
		d.check(p+".items.each", checkPath(r.Each))
	}
	// Fields left out are guessed: on a web page from each element, as
	// listing inference does; in JSON from the usual names.
	for _, k := range itemFields {
		v, kp := value[k], p+".items."+k
		if _, set := d.lines[kp]; !set {
			continue
		}
		switch {
		case strings.TrimSpace(v) == "":
			d.check(kp, "empty (leave the key out)")
		case s.Type == feed.TypeHTML:
			d.check(kp, checkItemSelector(v))
		default:
			d.check(kp, checkPath(v))
		}
	}
	if _, set := d.lines[p+".items.date_format"]; set {
		d.check(p+".items.date_format", checkDateFormat(r.DateFormat))
	}
	if r.DateFormat != "" && r.Date == "" {
		d.check(p+".items.date_format", "without items.date it has nothing to parse")
	}
}

// checkItemSelector checks "selector@attribute", where either part may be
// left out ("@href" is the item element's own attribute).
func checkItemSelector(v string) string {
	sel, attr, hasAttr := strings.Cut(v, "@")
	if hasAttr && !validAttr(attr) {
		return fmt.Sprintf("invalid attribute %s after @ (want a name such as href, datetime or src)", quote(attr))
	}
	if strings.TrimSpace(sel) == "" {
		if !hasAttr {
			return "empty selector"
		}
		return ""
	}
	return checkSelector(sel)
}

// validAttr reports whether a is an HTML attribute name.
func validAttr(a string) bool {
	if a == "" {
		return false
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ':') {
			return false
		}
	}
	return true
}

// checkPath reports what is wrong with a gjson path: gjson accepts any
// string, so only what can never match is refused.
func checkPath(v string) string {
	switch {
	case strings.TrimSpace(v) != v:
		return fmt.Sprintf("path %s has spaces around it", quote(v))
	case strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, ".."):
		return fmt.Sprintf("path %s has an empty part (two dots, or a dot at an end)", quote(v))
	}
	return ""
}

// checkDateFormat checks a Go time layout: it must format a known instant
// and parse that text back to the same instant, else it holds no fields.
func checkDateFormat(layout string) string {
	if strings.TrimSpace(layout) == "" {
		return "empty (leave the key out to parse dates leniently)"
	}
	// Not the reference date itself, which formats as the layout.
	ref := time.Date(2019, time.November, 23, 17, 45, 31, 0, time.UTC)
	text := ref.Format(layout)
	if text == layout {
		return fmt.Sprintf("%s holds no date fields: write the reference date Mon Jan 2 15:04:05 2006 in your format, e.g. \"02.01.2006\"", quote(layout))
	}
	if _, err := time.Parse(layout, text); err != nil {
		return fmt.Sprintf("%s cannot parse its own output: %v", quote(layout), err)
	}
	return ""
}
