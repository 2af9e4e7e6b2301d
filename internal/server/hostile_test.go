package server

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/testkit"
)

// The hostile feeds are internal/normalize's: built there from its
// vectors.txt (the standard XSS vectors in every field of RSS, Atom and
// JSON Feed), so that one list of vectors is tried everywhere.
var hostileSources = []struct {
	name, file, url string
}{
	{"hostile-rss", "rss.xml", "https://hostile.example/rss.xml"},
	{"hostile-atom", "atom.xml", "https://hostile.example/atom.xml"},
	{"hostile-json", "feed.json", "https://hostile.example/feed.json"},
}

// hostileStore is the store as the publisher and the server read it, over
// items and states held in memory, with the store's defaults for
// undated items.
type hostileStore struct {
	items  []feed.Item
	states []feed.SourceState
}

func (m *hostileStore) Items(_ context.Context, q feed.Query) ([]feed.Item, error) {
	var out []feed.Item
	for _, it := range m.items {
		if slices.Contains(q.Sources, it.Source) {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b feed.Item) int { return b.Date().Compare(a.Date()) })
	if q.Oldest {
		slices.Reverse(out)
	}
	out = out[min(q.Offset, len(out)):]
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (m *hostileStore) CountItems(_ context.Context, sources []string) (int, error) {
	n := 0
	for _, it := range m.items {
		if slices.Contains(sources, it.Source) {
			n++
		}
	}
	return n, nil
}

func (m *hostileStore) States(context.Context) ([]feed.SourceState, error) {
	return slices.Clone(m.states), nil
}

func (m *hostileStore) State(_ context.Context, name string) (feed.SourceState, error) {
	for _, st := range m.states {
		if st.Name == name {
			return st, nil
		}
	}
	return feed.SourceState{Name: name}, nil
}

// TestHostileFeedsEverywhere takes feeds that carry the standard XSS
// vectors in every field through the whole pipeline (normalize, publish,
// serve) and checks every output a reader or a browser gets: the RSS, Atom
// and JSON Feed documents and their archive pages, both OPML lists, the
// index and feed pages, and /healthz. Nothing executable may survive:
// markup in HTML-bearing fields is parsed as a browser would and must hold
// no script, event handler, style, form, frame, plugin, SVG or MathML, and
// every URL anywhere is absolute http(s) (or mailto in links). Fields the
// formats define as plain text (Atom type="text", JSON Feed title and
// summary, RSS titles) are judged as text: the encoders escape them, and
// internal/normalize's own test holds its text fields inert as HTML too. The
// status page is also given hostile state (error texts, moved and
// discovered URLs) that bypasses normalize: its templates must escape it.
func TestHostileFeedsEverywhere(t *testing.T) {
	now := time.Date(2025, time.June, 3, 12, 0, 0, 0, time.UTC)
	n := normalize.New(normalize.Options{})
	st := &hostileStore{}
	var sources []feed.Source
	for i, hs := range hostileSources {
		body, err := os.ReadFile(filepath.Join("..", "normalize", "testdata", "hostile", hs.file))
		if err != nil {
			t.Fatal(err)
		}
		src := feed.Source{Name: hs.name, URL: hs.url, Categories: []string{"hostile"}}
		sources = append(sources, src)
		f, err := n.Normalize(src, body, hs.url, now)
		if err != nil {
			t.Fatalf("normalize %s: %v", hs.file, err)
		}
		if len(f.Items) < 50 {
			t.Fatalf("%s gave %d items; the vectors make more", hs.file, len(f.Items))
		}
		for _, it := range f.Items {
			it.FirstSeen = now.Add(-time.Hour)
			if it.Published.IsZero() {
				it.Published = it.FirstSeen
			}
			st.items = append(st.items, it)
		}
		// What refresh records, plus what it never would: text and URLs
		// straight from an attacker, for the templates to escape.
		state := feed.SourceState{
			Name: hs.name, URL: hs.url, FeedTitle: f.Title, FeedLink: f.Link,
			LastFetch: now.Add(-time.Minute), LastSuccess: now.Add(-time.Hour), FirstSuccess: now.Add(-48 * time.Hour),
			NextFetch: now.Add(time.Hour), LastStatus: 200, ItemCount: len(f.Items),
		}
		switch i {
		case 0:
			state.LastError = `parse: <script>alert("error")</script><img src=x onerror=alert(1)>`
			state.Failures = 3
			state.Moved = `javascript:alert("moved")`
		case 1:
			state.Moved = `https://hostile.example/moved"><script>alert(1)</script>`
			state.Discovered = `https://hostile.example/found' onmouseover='alert(1)`
		case 2:
			state.Discovered = "data:text/html,<script>alert(1)</script>"
			state.Gone = true
		}
		st.states = append(st.states, state)
	}

	const base = "http://feeds.example"
	pub := publish.New(publish.Options{BaseURL: base, Version: "test", Hub: base + "/websub/hub", Now: func() time.Time { return now }},
		[]publish.FeedSpec{{Name: "all", Title: "All", Sources: []string{"hostile-rss", "hostile-atom", "hostile-json"}, Limit: 100, Backfill: -1}},
		sources, st)
	if err := pub.Rebuild(context.Background()); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	srv := New(Options{BaseURL: base, Version: "test", Sources: sources, Hub: base + "/websub/hub"}, pub, st)

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		res := rec.Result()
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: served without nosniff", path)
		}
		return res, rec.Body.Bytes()
	}
	checkDoc := func(path string, check func([]byte) []string) bool {
		t.Helper()
		res, body := get(path)
		if res.StatusCode == http.StatusNotFound {
			return false
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
		for _, p := range check(body) {
			t.Errorf("%s: %s", path, p)
		}
		return true
	}

	for _, page := range []string{"/", "/feeds/all"} {
		checkDoc(page, func(b []byte) []string { return pageProblems(t, b) })
	}
	checks := map[publish.Format]func([]byte) []string{
		publish.RSS:  func(b []byte) []string { return xmlProblems(t, b, rssRules) },
		publish.Atom: func(b []byte) []string { return xmlProblems(t, b, atomRules) },
		publish.JSON: func(b []byte) []string { return jsonProblems(t, b) },
	}
	items := map[publish.Format]int{}
	for format, check := range checks {
		checkDoc("/feeds/all."+format.String(), func(b []byte) []string {
			items[format] += bytes.Count(b, []byte(map[publish.Format]string{publish.RSS: "<item>", publish.Atom: "<entry>", publish.JSON: `"id":`}[format]))
			return check(b)
		})
		pages := 0
		for k := 1; checkDoc(fmt.Sprintf("/feeds/all/archive/%d.%s", k, format), check); k++ {
			pages++
		}
		if pages == 0 {
			t.Errorf("no %s archive page was checked", format)
		}
	}
	if items[publish.RSS] != 100 || items[publish.Atom] != 100 {
		t.Errorf("current documents hold %d RSS items and %d Atom entries, want 100", items[publish.RSS], items[publish.Atom])
	}
	for _, path := range []string{"/opml", "/feeds/all.opml"} {
		checkDoc(path, func(b []byte) []string { return xmlProblems(t, b, opmlRules) })
	}
	res, body := get("/healthz")
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("/healthz is served as %q", ct)
	}
	if !json.Valid(body) {
		t.Errorf("/healthz is not JSON: %s", body)
	}
}

// pageProblems parses an HTML page as a browser would and lists what a
// feed could have injected into it: a script or any active element, an
// event handler or style attribute, a URL of another scheme than http(s)
// (template-escaped fragments like "#ZgotmplZ" are safe), a meta refresh,
// a link that is not a feed alternate, a style element outside the head.
// The page's own head may load the server's stylesheet and script (from
// ownAssets, which no feed can put there) and reload itself without script.
func pageProblems(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return []string{"unparseable: " + err.Error()}
	}
	var bad []string
	var walk func(n *html.Node, inHead bool)
	walk = func(n *html.Node, inHead bool) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Head:
				inHead = true
			case atom.Style:
				if !inHead {
					bad = append(bad, "<style> in the body")
				}
			case atom.Meta:
				if nodeAttr(n, "http-equiv") != "" {
					bad = append(bad, "meta http-equiv")
				}
			case atom.Link:
				own := inHead && nodeAttr(n, "rel") == "stylesheet" && isOwnAsset(nodeAttr(n, "href"))
				if !own && (nodeAttr(n, "rel") != "alternate" || !testkit.SafeURL(nodeAttr(n, "href"))) {
					bad = append(bad, fmt.Sprintf("link rel=%q href=%q", nodeAttr(n, "rel"), nodeAttr(n, "href")))
				}
			case atom.Script:
				if !inHead || !isOwnAsset(nodeAttr(n, "src")) || n.FirstChild != nil {
					bad = append(bad, "<script>")
				}
			case atom.Noscript:
				// Parsed as a browser with scripting does: its content is text.
				if !inHead || n.FirstChild == nil || n.FirstChild.NextSibling != nil || n.FirstChild.Data != ownNoscript {
					bad = append(bad, "<noscript>")
				}
			default:
				bad = append(bad, elementProblems(n)...)
			}
			bad = append(bad, attrProblems(n, true)...)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inHead)
		}
	}
	walk(doc, false)
	return bad
}

// ownAssets is where the test server's pages load their stylesheet and
// script from; ownNoscript is the status page's reload without script.
const (
	ownAssets   = "http://feeds.example/assets/"
	ownNoscript = `<meta http-equiv="refresh" content="60">`
)

func isOwnAsset(s string) bool {
	return testkit.SafeURL(s) && strings.HasPrefix(s, ownAssets) && !strings.ContainsAny(s, "?#")
}

// hostileElements have no place in published content or in our pages'
// bodies: they run script, load foreign pages or plugins, submit data,
// restyle or retarget the page, or switch the parser into foreign content.
var hostileElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Link: true, atom.Meta: true, atom.Base: true,
	atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Param: true,
	atom.Frame: true, atom.Frameset: true, atom.Form: true, atom.Input: true,
	atom.Button: true, atom.Textarea: true, atom.Select: true, atom.Isindex: true,
	atom.Template: true, atom.Noscript: true, atom.Svg: true, atom.Math: true,
}

// isPlayerURL reports whether s is the one kind of iframe content may
// keep: a YouTube or Vimeo player.
func isPlayerURL(s string) bool {
	for _, p := range []string{"https://www.youtube.com/embed/", "https://www.youtube-nocookie.com/embed/", "https://player.vimeo.com/video/"} {
		if strings.HasPrefix(s, p) && !strings.ContainsAny(s, ` "'<>`) {
			return true
		}
	}
	return false
}

func elementProblems(n *html.Node) []string {
	switch {
	case n.Namespace != "":
		return []string{"<" + n.Namespace + ":" + n.Data + ">"}
	case hostileElements[n.DataAtom]:
		return []string{"<" + n.Data + ">"}
	case n.DataAtom == atom.Iframe && !isPlayerURL(nodeAttr(n, "src")):
		return []string{"iframe of " + nodeAttr(n, "src")}
	}
	return nil
}

// attrProblems lists n's event handlers, style and other active attributes
// and its URL attributes that are not absolute http(s) (or mailto, or, on
// our own pages, a same-page fragment).
func attrProblems(n *html.Node, page bool) []string {
	var bad []string
	for _, a := range n.Attr {
		key := strings.ToLower(a.Key)
		switch key {
		case "href", "src", "poster", "cite", "action", "formaction", "background", "data", "srcdoc", "xmlns":
		default:
			if a.Namespace != "" || strings.HasPrefix(key, "on") || key == "style" {
				bad = append(bad, fmt.Sprintf("%s %s=%q", n.Data, a.Key, a.Val))
			}
			if key == "srcset" {
				for _, c := range strings.Split(a.Val, ",") {
					if u, _, _ := strings.Cut(strings.TrimSpace(c), " "); !testkit.SafeURL(u) {
						bad = append(bad, fmt.Sprintf("%s srcset=%q", n.Data, a.Val))
					}
				}
			}
			continue
		}
		ok := testkit.SafeURL(a.Val) || strings.HasPrefix(a.Val, "mailto:") && !strings.ContainsAny(a.Val, ` "'<>`) || page && strings.HasPrefix(a.Val, "#")
		if !ok || key == "action" || key == "formaction" || key == "srcdoc" || key == "background" || key == "data" {
			bad = append(bad, fmt.Sprintf("%s %s=%q", n.Data, a.Key, a.Val))
		}
	}
	return bad
}

func nodeAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// htmlProblems parses an HTML fragment from a document's HTML-bearing field
// as a reader's browser would, and lists what is active in it.
func htmlProblems(fragment string) []string {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), ctx)
	if err != nil {
		return []string{"unparseable HTML: " + err.Error()}
	}
	var bad []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			bad = append(bad, elementProblems(n)...)
			bad = append(bad, attrProblems(n, false)...)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return bad
}

// xnode is any XML element, with its attributes, text and raw content.
type xnode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Inner    string     `xml:",innerxml"`
	Children []xnode    `xml:",any"`
}

func (n xnode) attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// xmlRules say which parts of an XML format hold HTML and which hold URLs.
type xmlRules struct {
	// html reports whether the element's text is HTML.
	html func(n xnode) bool
	// urlText are the elements whose text is a URL (by local name); url
	// reports for one of them whether it must be one (an RSS guid that is
	// no permalink is an id).
	urlText map[string]func(n xnode) bool
	// urlAttrs are the attributes that hold URLs.
	urlAttrs map[string]bool
	// ids are the elements whose text is an identifier, which must not be
	// a script or data URL even when it is no http(s) one (Atom ids are
	// tag:, urn: or http(s) IRIs).
	ids map[string]bool
}

func alwaysURL(xnode) bool { return true }

var (
	rssRules = xmlRules{
		html: func(n xnode) bool { return n.XMLName.Local == "description" || n.XMLName.Local == "encoded" },
		urlText: map[string]func(xnode) bool{
			"link": alwaysURL, "docs": alwaysURL, "comments": alwaysURL,
			"guid": func(n xnode) bool { return n.attr("isPermaLink") != "false" },
		},
		urlAttrs: map[string]bool{"href": true, "url": true},
		ids:      map[string]bool{"guid": true},
	}
	atomRules = xmlRules{
		html:     func(n xnode) bool { return n.attr("type") == "html" || n.attr("type") == "xhtml" },
		urlText:  map[string]func(xnode) bool{"uri": alwaysURL, "icon": alwaysURL, "logo": alwaysURL},
		urlAttrs: map[string]bool{"href": true, "src": true, "uri": true},
		ids:      map[string]bool{"id": true},
	}
	opmlRules = xmlRules{
		html:     func(xnode) bool { return false },
		urlAttrs: map[string]bool{"xmlUrl": true, "htmlUrl": true, "url": true},
	}
)

// xmlProblems parses an XML document and lists what a reader could be
// made to execute: active HTML in its HTML-bearing fields, URLs that are not
// http(s), and script or data URLs anywhere an attribute or id holds one.
func xmlProblems(t *testing.T, doc []byte, rules xmlRules) []string {
	t.Helper()
	var root xnode
	if err := xml.Unmarshal(doc, &root); err != nil {
		return []string{"not well-formed XML: " + err.Error()}
	}
	var bad []string
	var walk func(n xnode)
	walk = func(n xnode) {
		name := n.XMLName.Local
		where := func(p string) string { return fmt.Sprintf("<%s>: %s", name, p) }
		if rules.html(n) {
			fragment := n.Text
			if n.attr("type") == "xhtml" {
				fragment = n.Inner
			}
			for _, p := range htmlProblems(fragment) {
				bad = append(bad, where(p))
			}
		}
		if must, ok := rules.urlText[name]; ok && must(n) {
			if u := strings.TrimSpace(n.Text); u != "" && !testkit.SafeURL(u) {
				bad = append(bad, where(fmt.Sprintf("URL %q", u)))
			}
		}
		if rules.ids[name] && isScriptURL(n.Text) {
			bad = append(bad, where(fmt.Sprintf("id %q", n.Text)))
		}
		for _, a := range n.Attrs {
			if rules.urlAttrs[a.Name.Local] && a.Value != "" && !testkit.SafeURL(a.Value) {
				bad = append(bad, where(fmt.Sprintf("%s=%q", a.Name.Local, a.Value)))
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(root)
	return bad
}

// isScriptURL reports whether s, read as a browser reads a URL (spaces and
// control characters skipped, case ignored), has a scheme that runs script
// or embeds a document.
func isScriptURL(s string) bool {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s))
	for _, scheme := range []string{"javascript:", "vbscript:", "livescript:", "data:"} {
		if strings.HasPrefix(s, scheme) {
			return true
		}
	}
	return false
}

// jsonURLKeys are the JSON Feed members that hold URLs.
var jsonURLKeys = map[string]bool{
	"home_page_url": true, "feed_url": true, "next_url": true, "icon": true, "favicon": true,
	"url": true, "external_url": true, "image": true, "banner_image": true, "avatar": true,
	"current_url": true, "previous_url": true, "item_url": true,
}

// jsonProblems lists active HTML in a JSON Feed's content_html (summary,
// title and tags are plain text in JSON Feed), URL members that are not
// http(s), and ids that are script URLs, wherever they sit (items, authors, attachments, hubs,
// feedmill's extension).
func jsonProblems(t *testing.T, doc []byte) []string {
	t.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var bad []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(k, c)
			}
		case []any:
			for _, c := range v {
				walk(key, c)
			}
		case string:
			switch {
			case key == "content_html":
				for _, p := range htmlProblems(v) {
					bad = append(bad, key+": "+p)
				}
			case jsonURLKeys[key] && v != "" && !testkit.SafeURL(v):
				bad = append(bad, fmt.Sprintf("%s %q", key, v))
			case key == "id" && isScriptURL(v):
				bad = append(bad, fmt.Sprintf("id %q", v))
			}
		}
	}
	walk("", root)
	return bad
}

// TestHostileCheckers keeps the checkers honest: each must see what it is
// there to see, in the form a document would carry it.
func TestHostileCheckers(t *testing.T) {
	page := func(body string) []byte {
		return []byte(`<!doctype html><html><head><title>t</title><style>b{}</style><link rel="alternate" href="http://feeds.example/feeds/all.atom"></head><body>` + body + `</body></html>`)
	}
	pages := []struct {
		body   string
		unsafe bool
	}{
		{`<p><a href="http://feeds.example/">ok</a> <a href="#ZgotmplZ">escaped</a> &lt;script&gt;</p>`, false},
		{`<script>alert(1)</script>`, true},
		{`<p onclick="alert(1)">x</p>`, true},
		{`<a href="javascript:alert(1)">x</a>`, true},
		{`<style>b{}</style>`, true},
		{`<svg><a>x</a></svg>`, true},
		{`<meta http-equiv="refresh" content="0;url=http://x.example/">`, true},
	}
	for _, p := range pages {
		if got := pageProblems(t, page(p.body)); (len(got) > 0) != p.unsafe {
			t.Errorf("pageProblems(%q) = %q, want unsafe %v", p.body, got, p.unsafe)
		}
	}
	// The page's own assets are allowed in its head, and only there.
	heads := []struct {
		head, body string
		unsafe     bool
	}{
		{`<link rel="stylesheet" href="http://feeds.example/assets/status.1.css"><script src="http://feeds.example/assets/status.1.js" defer></script><noscript><meta http-equiv="refresh" content="60"></noscript>`, "", false},
		{`<script src="https://cdn.example/assets/x.js"></script>`, "", true},
		{`<link rel="stylesheet" href="https://cdn.example/x.css">`, "", true},
		{`<noscript><meta http-equiv="refresh" content="0;url=http://x.example/"></noscript>`, "", true},
		{"", `<script src="http://feeds.example/assets/status.1.js"></script>`, true},
		{"", `<noscript><meta http-equiv="refresh" content="60"></noscript>`, true},
	}
	for _, h := range heads {
		doc := []byte(`<!doctype html><html><head><title>t</title>` + h.head + `</head><body>` + h.body + `</body></html>`)
		if got := pageProblems(t, doc); (len(got) > 0) != h.unsafe {
			t.Errorf("pageProblems(head %q, body %q) = %q, want unsafe %v", h.head, h.body, got, h.unsafe)
		}
	}
	rss := func(item string) []byte {
		return []byte(`<rss><channel><link>http://feeds.example/</link><item>` + item + `</item></channel></rss>`)
	}
	docs := []struct {
		name   string
		got    []string
		unsafe bool
	}{
		{"rss clean", xmlProblems(t, rss(`<title>&lt;b&gt;</title><description>&lt;p&gt;ok&lt;/p&gt;</description><guid isPermaLink="false">1</guid>`), rssRules), false},
		{"rss escaped script", xmlProblems(t, rss(`<description>&lt;script&gt;alert(1)&lt;/script&gt;</description>`), rssRules), true},
		{"rss cdata handler", xmlProblems(t, rss(`<content:encoded xmlns:content="c"><![CDATA[<img src=x onerror=alert(1)>]]></content:encoded>`), rssRules), true},
		{"rss script link", xmlProblems(t, rss(`<link>javascript:alert(1)</link>`), rssRules), true},
		{"rss permalink guid", xmlProblems(t, rss(`<guid>data:text/html,x</guid>`), rssRules), true},
		{"rss enclosure", xmlProblems(t, rss(`<enclosure url="vbscript:x" type="audio/mpeg"/>`), rssRules), true},
		{"atom xhtml", xmlProblems(t, []byte(`<feed><entry><content type="xhtml"><div><svg onload="alert(1)"/></div></content></entry></feed>`), atomRules), true},
		{"atom text", xmlProblems(t, []byte(`<feed><entry><title type="text">&lt;script&gt;</title><id>urn:x</id></entry></feed>`), atomRules), false},
		{"atom id", xmlProblems(t, []byte(`<feed><id>javascript:alert(1)</id></feed>`), atomRules), true},
		{"opml", xmlProblems(t, []byte(`<opml><body><outline xmlUrl="javascript:x"/></body></opml>`), opmlRules), true},
		{"json clean", jsonProblems(t, []byte(`{"home_page_url":"http://feeds.example/","items":[{"id":"urn:x","title":"<script>","content_html":"<p>ok</p>"}]}`)), false},
		{"json content", jsonProblems(t, []byte(`{"items":[{"content_html":"<iframe src=\"https://evil.example/\"></iframe>"}]}`)), true},
		{"json author url", jsonProblems(t, []byte(`{"items":[{"authors":[{"url":"javascript:x"}]}]}`)), true},
	}
	for _, d := range docs {
		if (len(d.got) > 0) != d.unsafe {
			t.Errorf("%s: problems %q, want unsafe %v", d.name, d.got, d.unsafe)
		}
	}
}
