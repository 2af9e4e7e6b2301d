package testkit

import (
	"fmt"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
)

// The checkers of what internal/normalize promises about the feeds and
// items it makes, used by normalize's tests and by scrape's (whose items
// keep the same promises). testkit cannot import normalize (normalize's
// in-package tests import testkit), so the few rules of normalize the
// checks use come in as values, a Rules, which each package's tests fill
// in: normalize's from its unexported names, scrape's from the exported
// ones.

// TestNow is the fixed clock of normalize's and scrape's tests.
var TestNow = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// Caps are the caps on the fields of a normalized item, in bytes (Authors
// and Categories in entries).
type Caps struct {
	Title, ID, Link, Content          int
	Authors, Categories               int
	AuthorName, AuthorEmail, Category int
}

// Rules are normalize's rules the checkers judge items by.
type Rules struct {
	Caps Caps
	// XMLForbidden reports whether XML 1.0 forbids r in a document.
	XMLForbidden func(r rune) bool
	// CleanEmail returns s when it looks like an email address, else "".
	CleanEmail func(s string) string
	// Defuse drops from plain text what would be active markup; text
	// Normalize made is a fixed point.
	Defuse func(s string) string
	// MediaType matches the media types an enclosure may carry, Player
	// the video players an <iframe> may embed.
	MediaType, Player *regexp.Regexp
}

// Feed is what CheckInvariants looks at in a normalized feed.
type Feed struct {
	Title, Link, Hub, Self string
	Items                  []feed.Item
	Duplicates             int
}

// CheckInvariants fails t unless f keeps the promises of Normalize.
func (r Rules) CheckInvariants(t testing.TB, f Feed) {
	t.Helper()
	seen := make(map[string]bool)
	for i, it := range f.Items {
		if it.ID == "" {
			t.Errorf("item %d has an empty id", i)
		}
		if seen[it.ID] {
			t.Errorf("item %d repeats id %q", i, it.ID)
		}
		seen[it.ID] = true
		for name, d := range map[string]time.Time{"Published": it.Published, "Updated": it.Updated} {
			if d.Location() != time.UTC {
				t.Errorf("item %d: %s %v is not UTC", i, name, d)
			}
		}
		if !it.Updated.IsZero() && !it.Published.IsZero() && it.Updated.Before(it.Published) {
			t.Errorf("item %d: updated %v before published %v", i, it.Updated, it.Published)
		}
		urls := []string{it.Link}
		for _, e := range it.Enclosures {
			urls = append(urls, e.URL)
		}
		for _, p := range it.Authors {
			urls = append(urls, p.URI)
		}
		for _, u := range urls {
			if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("item %d: URL %q is not absolute http(s)", i, u)
			}
		}
		if p := ImageProblem(it.Image); p != "" {
			t.Errorf("item %d: %s", i, p)
		}
		for _, h := range []string{it.Summary, it.Content} {
			if bad := UnsafeURLs(h); len(bad) > 0 {
				t.Errorf("item %d: unsafe URLs %q in %q", i, bad, h)
			}
		}
		r.CheckBounded(t, i, it)
	}
	if bad := r.ForbiddenRune(f.Title); bad >= 0 || len(f.Title) > r.Caps.Title {
		t.Errorf("feed title of %d bytes holds %U", len(f.Title), bad)
	}
	for name, u := range map[string]string{"link": f.Link, "hub": f.Hub, "self": f.Self} {
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Errorf("feed %s %q is not absolute http(s)", name, u)
		}
	}
	if f.Duplicates < 0 {
		t.Errorf("Duplicates = %d", f.Duplicates)
	}
}

// CheckBounded fails t when item i of a feed holds a character XML forbids
// or a field past its cap.
func (r Rules) CheckBounded(t testing.TB, i int, it feed.Item) {
	t.Helper()
	for name, s := range ItemStrings(it) {
		if c := r.ForbiddenRune(s); c >= 0 {
			t.Errorf("item %d: %s holds %U: %.80q", i, name, c, s)
		}
		if !utf8.ValidString(s) {
			t.Errorf("item %d: %s is not valid UTF-8: %.80q", i, name, s)
		}
	}
	type fieldCap struct {
		name     string
		len, max int
	}
	caps := []fieldCap{
		{"title", len(it.Title), r.Caps.Title},
		{"id", len(it.ID), r.Caps.ID},
		{"link", len(it.Link), r.Caps.Link},
		{"canonical", len(it.Canonical), r.Caps.Link},
		{"image", len(it.Image), r.Caps.Link},
		{"summary", len(it.Summary), r.Caps.Content},
		{"content", len(it.Content), r.Caps.Content},
		{"authors", len(it.Authors), r.Caps.Authors},
		{"categories", len(it.Categories), r.Caps.Categories},
	}
	for _, p := range it.Authors {
		caps = append(caps, fieldCap{"author name", len(p.Name), r.Caps.AuthorName},
			fieldCap{"author email", len(p.Email), r.Caps.AuthorEmail}, fieldCap{"author uri", len(p.URI), r.Caps.Link})
	}
	for _, c := range it.Categories {
		caps = append(caps, fieldCap{"category", len(c), r.Caps.Category})
	}
	for _, c := range caps {
		if c.len > c.max {
			t.Errorf("item %d: %s is %d long, over its cap of %d", i, c.name, c.len, c.max)
		}
	}
}

// ForbiddenRune returns the first character of s XML forbids, or -1.
func (r Rules) ForbiddenRune(s string) rune {
	for _, c := range s {
		if r.XMLForbidden(c) {
			return c
		}
	}
	return -1
}

// ItemStrings lists every string field of it that feedmill publishes.
func ItemStrings(it feed.Item) map[string]string {
	m := map[string]string{
		"id": it.ID, "link": it.Link, "canonical": it.Canonical, "title": it.Title,
		"summary": it.Summary, "content": it.Content, "image": it.Image,
	}
	for i, p := range it.Authors {
		m[fmt.Sprint("author ", i, " name")] = p.Name
		m[fmt.Sprint("author ", i, " email")] = p.Email
		m[fmt.Sprint("author ", i, " uri")] = p.URI
	}
	for i, c := range it.Categories {
		m[fmt.Sprint("category ", i)] = c
	}
	for i, e := range it.Enclosures {
		m[fmt.Sprint("enclosure ", i, " url")] = e.URL
		m[fmt.Sprint("enclosure ", i, " type")] = e.Type
	}
	return m
}

// MustURL parses s, failing t when it is no URL.
func MustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// UnsafeURLs returns the values of URL-bearing attributes in fragment that
// are not absolute http(s) or mailto URLs: what no output may contain.
func UnsafeURLs(fragment string) []string {
	var bad []string
	if err := walkFragment(fragment, func(n *nethtml.Node) {
		for _, a := range n.Attr {
			v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			switch a.Key {
			case "href", "src", "poster", "cite", "action", "formaction", "background", "data":
				if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") {
					bad = append(bad, a.Key+"="+a.Val)
				}
			case "srcset":
				for _, c := range strings.Split(a.Val, ", ") {
					if !strings.HasPrefix(c, "http://") && !strings.HasPrefix(c, "https://") {
						bad = append(bad, a.Key+"="+a.Val)
					}
				}
			default:
				if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:") {
					bad = append(bad, a.Key+"="+a.Val)
				}
			}
		}
	}); err != nil {
		return []string{"unparseable: " + err.Error()}
	}
	return bad
}

// HostileItemProblems lists what is unsafe in a normalized item.
func (r Rules) HostileItemProblems(it feed.Item) []string {
	var out []string
	for name, h := range map[string]string{"summary": it.Summary, "content": it.Content} {
		for _, p := range r.UnsafeHTML(h) {
			out = append(out, name+": "+p)
		}
	}
	texts := map[string]string{"title": it.Title}
	urls := map[string]string{"link": it.Link, "canonical": it.Canonical}
	if p := ImageProblem(it.Image); p != "" {
		out = append(out, p)
	}
	for j, p := range it.Authors {
		texts[fmt.Sprintf("author %d name", j)] = p.Name
		urls[fmt.Sprintf("author %d uri", j)] = p.URI
		if p.Email != "" && (r.CleanEmail(p.Email) != p.Email || strings.ContainsAny(p.Email, `'"<>&`)) {
			out = append(out, fmt.Sprintf("author %d email %q", j, p.Email))
		}
	}
	for j, c := range it.Categories {
		texts[fmt.Sprintf("category %d", j)] = c
	}
	for j, e := range it.Enclosures {
		urls[fmt.Sprintf("enclosure %d", j)] = e.URL
		if e.Type != "" && !r.MediaType.MatchString(e.Type) {
			out = append(out, fmt.Sprintf("enclosure %d type %q", j, e.Type))
		}
	}
	for name, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) }) {
			out = append(out, fmt.Sprintf("%s %q has control characters", name, s))
		}
		// Plain text must stay inert for a reader that takes it for HTML.
		if r.Defuse(s) != s {
			out = append(out, fmt.Sprintf("%s %q holds active markup", name, s))
		}
	}
	for name, u := range urls {
		if u != "" && !SafeURL(u) {
			out = append(out, fmt.Sprintf("%s %q", name, u))
		}
	}
	if it.ID == "" || !utf8.ValidString(it.ID) {
		out = append(out, fmt.Sprintf("id %q", it.ID))
	}
	return out
}

// ImageProblem says what is wrong with an item's image URL, or "" when
// there is none or it is fine: an absolute http(s) URL with a host (see
// SafeURL) and without user information, which could only be a source's
// credentials.
func ImageProblem(image string) string {
	if image == "" {
		return ""
	}
	if !SafeURL(image) {
		return fmt.Sprintf("image %q is not an absolute http(s) URL", image)
	}
	if u, err := url.Parse(image); err != nil || u.User != nil {
		return fmt.Sprintf("image %q is unparseable or carries user information", image)
	}
	return ""
}

// SafeURL reports whether u is an absolute http(s) URL with a host that
// holds nothing an attribute or a careless reader could stumble on:
// whitespace, control characters, quotes, angle brackets or backslashes.
func SafeURL(u string) bool {
	if strings.ContainsFunc(u, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"<>\`+"`", r)
	}) {
		return false
	}
	scheme, rest, ok := strings.Cut(u, "://")
	return ok && (scheme == "http" || scheme == "https") && rest != "" && rest[0] != '/'
}

// UnsafeHTML lists what is executable or foreign in an HTML fragment as a
// browser would parse it: forbidden elements (any element outside the HTML
// namespace too), iframes other than YouTube and Vimeo players, event
// handlers and other forbidden attributes, and URL attributes that are not
// absolute http(s) or mailto.
func (r Rules) UnsafeHTML(fragment string) []string {
	if fragment == "" {
		return nil
	}
	var bad []string
	if err := walkFragment(fragment, func(n *nethtml.Node) {
		if n.Type == nethtml.ElementNode {
			switch {
			case n.Namespace != "":
				bad = append(bad, "<"+n.Namespace+" "+n.Data+">")
			case forbiddenElements[n.DataAtom]:
				bad = append(bad, "<"+n.Data+">")
			case n.DataAtom == atom.Iframe && !r.Player.MatchString(attr(n, "src")):
				bad = append(bad, "iframe of "+attr(n, "src"))
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case a.Namespace != "" || strings.HasPrefix(key, "on") || forbiddenAttrs[key]:
					bad = append(bad, fmt.Sprintf("%s %s=%q", n.Data, a.Key, a.Val))
				case urlAttrs[key] && !SafeURL(a.Val) && !mailtoURL.MatchString(a.Val):
					bad = append(bad, fmt.Sprintf("%s %s=%q", n.Data, a.Key, a.Val))
				case key == "srcset":
					for _, c := range strings.Split(a.Val, ", ") {
						if u, _, _ := strings.Cut(c, " "); !SafeURL(u) {
							bad = append(bad, fmt.Sprintf("%s srcset=%q", n.Data, a.Val))
						}
					}
				}
			}
		}
	}); err != nil {
		return []string{"unparseable: " + err.Error()}
	}
	return bad
}

var mailtoURL = regexp.MustCompile(`^mailto:[^\s"'<>\\]+$`)

// Elements and attributes that have no place in published HTML: they run
// script, load foreign pages or plugins, submit data, restyle or take over
// the reader's page, or change how the rest of it is parsed.
var (
	forbiddenElements = map[atom.Atom]bool{
		atom.Script: true, atom.Style: true, atom.Link: true, atom.Meta: true, atom.Base: true,
		atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Param: true,
		atom.Frame: true, atom.Frameset: true, atom.Form: true, atom.Input: true,
		atom.Button: true, atom.Textarea: true, atom.Select: true, atom.Isindex: true,
		atom.Template: true, atom.Noscript: true, atom.Xmp: true, atom.Plaintext: true,
		atom.Title: true, atom.Html: true, atom.Head: true, atom.Body: true,
		atom.Svg: true, atom.Math: true,
	}
	forbiddenAttrs = map[string]bool{
		"style": true, "srcdoc": true, "action": true, "formaction": true, "background": true,
		"dynsrc": true, "lowsrc": true, "xmlns": true, "data": true, "codebase": true, "http-equiv": true,
	}
	urlAttrs = map[string]bool{"href": true, "src": true, "poster": true, "cite": true}
)

// The budgets of one Normalize of a hostile input are in work, not time:
// the bytes it allocates (an upper bound on how far the heap can grow) and
// the number of allocations, both in proportion to the input's size. An
// expansion bomb allocates thousands of times its size, a parser that
// copies per level of nesting grows with the square of the depth; the
// honest work on these inputs stays within a few hundred bytes and a few
// allocations per input byte. Unlike a wall-clock budget these figures are
// the same on an idle and on a loaded machine. Under the race detector the
// nesting tests nest 20,000 deep rather than 100,000, still far past every
// parser's limit.
const (
	allocPerByte = 256
	allocFixed   = 16 << 20
	countPerByte = 8
	countFixed   = 100_000
)

// Cost is the work one call did: bytes and objects allocated.
type Cost struct{ Bytes, Allocs uint64 }

func (c Cost) String() string {
	return fmt.Sprintf("%d KiB in %d allocations", c.Bytes>>10, c.Allocs)
}

// Budget is what a linear amount of work on an input of n bytes may cost.
func Budget(n int) Cost {
	return Cost{Bytes: allocFixed + allocPerByte*uint64(n), Allocs: countFixed + countPerByte*uint64(n)}
}

// Over reports whether c is past the budget of an input of n bytes.
func (c Cost) Over(n int) bool {
	b := Budget(n)
	return c.Bytes > b.Bytes || c.Allocs > b.Allocs
}

// Measure runs f and returns what it allocated. The counters are the
// runtime's cumulative ones, so the figure is exact and the same on an
// idle and a loaded machine; the tests that measure do not run in parallel, so
// nothing else allocates meanwhile but the runtime itself.
func Measure(f func()) Cost {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return Cost{Bytes: after.TotalAlloc - before.TotalAlloc, Allocs: after.Mallocs - before.Mallocs}
}

// attr returns the value of n's attribute key, or "".
func attr(n *nethtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// walkFragment parses an HTML fragment as a browser would inside a <div>
// and calls visit on each of its nodes, in document order.
func walkFragment(fragment string, visit func(n *nethtml.Node)) error {
	ctx := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(fragment), ctx)
	if err != nil {
		return err
	}
	var walk func(*nethtml.Node)
	walk = func(n *nethtml.Node) {
		visit(n)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return nil
}
