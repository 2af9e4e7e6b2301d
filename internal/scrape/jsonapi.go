package scrape

import (
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// Default gjson paths of the fields of a JSON item, tried in order when
// the source's rules leave a field empty: what common APIs call them.
var jsonDefaults = map[string][]string{
	"title":   {"title", "headline", "name"},
	"link":    {"url", "link", "permalink", "href", "canonical_url"},
	"date":    {"date_published", "published_at", "publishedAt", "published", "pubDate", "date", "created_at", "createdAt"},
	"summary": {"summary", "excerpt", "description", "lede"},
	"content": {"content_html", "body_html", "content", "body", "html", "text"},
	"image":   {"image", "image_url", "imageUrl", "thumbnail", "featured_image"},
	"author":  {"author", "byline", "authors"},
}

// FromJSON turns a JSON document (body, UTF-8) fetched from baseURL into a
// feed for src, with src.Items as gjson paths: Each is the path of the
// array of items ("data.posts"; empty for a document that is the array),
// and each field a path relative to one item. A field left empty is
// looked for under the names APIs commonly use (title or headline; url,
// link or permalink; date_published, published_at, date...; see
// jsonDefaults).
//
// Values are taken as strings; a number is written out (an id), an object
// gives its "name", "url" or "href" (an author, an image), an array its
// first element. Dates are RFC 3339 and the other forms parseDate reads,
// with DateFormat when given, or Unix times in seconds or milliseconds
// (numbers or digit strings). Title and author are plain text (entities
// decoded once, markup dropped, as in feeds); summary and content are
// sanitized as feed content, taken for HTML when they hold markup and for
// plain text otherwise. Links are resolved against baseURL; an item
// without an http(s) link is skipped (counted in the error when none has
// one). Items are built as Normalize builds a feed's (tracking parameters
// stripped, canonical link as the stable id, rewrites applied, summary
// derived from content when missing, dates UTC and sane, repeats dropped
// and counted in Duplicates). The image becomes the item's Image, its
// picture (not an enclosure: a thumbnail is no attachment).
// Feed.Link is the site of baseURL.
//
// Errors name the source: a body that is not JSON, one beyond MaxDepth,
// MaxElements or MaxItems (wrapping ErrTooComplex), an Each that is not an
// array (`items.each "data" is an object, not an array`), and one that
// matches nothing or an empty array (`items.each "data.posts" matched 0
// items`) or items none of which has a link, which wrap ErrNoItems.
//
// The items fit the caps of limits.go, as Normalize's do.
func (sc *Scraper) FromJSON(src feed.Source, body []byte, baseURL string, now time.Time) (*normalize.Feed, error) {
	out, err := sc.fromJSON(src, body, baseURL, now)
	if err != nil {
		return nil, err
	}
	sc.norm.Bound(src.Name, out)
	return out, nil
}

// fromJSON is FromJSON without the caps.
func (sc *Scraper) fromJSON(src feed.Source, body []byte, baseURL string, now time.Time) (*normalize.Feed, error) {
	rewrites, err := sc.norm.Rewrites(src)
	if err != nil {
		return nil, err
	}
	var rules feed.ItemRules
	if src.Items != nil {
		rules = *src.Items
	}
	body = normalize.TrimBOM(body)
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("json %s: the body is not valid JSON", src.Name)
	}
	if err := normalize.CheckJSONShape(body); err != nil {
		return nil, fmt.Errorf("json %s: %w", src.Name, err)
	}
	each := strings.TrimSpace(rules.Each)
	list := gjson.ParseBytes(body)
	if each != "" {
		list = list.Get(each)
	}
	name := each
	if name == "" {
		name = "(the document)"
	}
	switch {
	case !list.Exists():
		return nil, fmt.Errorf("json %s: items.each %q matched 0 items: %w", src.Name, name, ErrNoItems)
	case !list.IsArray():
		return nil, fmt.Errorf("json %s: items.each %q is %s, not an array", src.Name, name, jsonKind(list))
	}
	elems := list.Array()
	if len(elems) == 0 {
		return nil, fmt.Errorf("json %s: items.each %q matched 0 items: %w", src.Name, name, ErrNoItems)
	}

	base := normalize.ParseBase(baseURL)
	out := &normalize.Feed{}
	if base != nil {
		out.Link = (&url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/"}).String()
	}
	j := jsonItems{n: sc, src: src, rules: rules, base: base, now: now.UTC(), rewrites: rewrites}
	seen := make(map[string]bool, len(elems))
	for _, e := range elems {
		it, ok := j.item(e)
		if !ok {
			continue
		}
		if seen[it.ID] {
			out.Duplicates++
			continue
		}
		seen[it.ID] = true
		out.Items = append(out.Items, it)
		runtime.Gosched()
	}
	if len(out.Items) == 0 {
		path := strings.TrimSpace(rules.Link)
		if path == "" {
			path = strings.Join(jsonDefaults["link"], "|")
		}
		return nil, fmt.Errorf("json %s: items.link %q gave no http(s) link in any of the %d items of %q: %w", src.Name, path, len(elems), name, ErrNoItems)
	}
	return out, nil
}

// jsonKind names the JSON type of r for an error message.
func jsonKind(r gjson.Result) string {
	switch r.Type {
	case gjson.String:
		return "a string"
	case gjson.Number:
		return "a number"
	case gjson.True, gjson.False:
		return "a boolean"
	case gjson.Null:
		return "null"
	}
	return "an object"
}

// jsonItems builds the items of one JSON document.
type jsonItems struct {
	n        *Scraper
	src      feed.Source
	rules    feed.ItemRules
	base     *url.URL
	now      time.Time
	rewrites normalize.Rewrites
}

// value returns the field's value in e: at the rule's path, else at the
// first default path that has one.
func (j *jsonItems) value(e gjson.Result, rule, name string) gjson.Result {
	if p := strings.TrimSpace(rule); p != "" {
		return e.Get(p)
	}
	for _, p := range jsonDefaults[name] {
		if r := e.Get(p); r.Exists() && r.Type != gjson.Null {
			return r
		}
	}
	return gjson.Result{}
}

// jsonString returns r as a string: a string as it is, a number or a
// boolean written out, an object's name, url or href, an array's first
// element that gives one.
func jsonString(r gjson.Result, depth int) string {
	switch {
	case depth > 4 || !r.Exists():
		return ""
	case r.Type == gjson.String:
		return r.Str
	case r.Type == gjson.Number, r.Type == gjson.True, r.Type == gjson.False:
		return r.Raw
	case r.IsArray():
		for _, e := range r.Array() {
			if s := jsonString(e, depth+1); s != "" {
				return s
			}
		}
	case r.IsObject():
		for _, k := range []string{"name", "url", "href", "src", "value"} {
			if s := jsonString(r.Get(k), depth+1); s != "" {
				return s
			}
		}
	}
	return ""
}

// jsonDate reads a date: a Unix time (seconds or milliseconds) as a
// number or digit string, else text parseDate reads.
func jsonDate(r gjson.Result, layout string) time.Time {
	s := strings.TrimSpace(jsonString(r, 0))
	if s == "" {
		return time.Time{}
	}
	if t, ok := unixDate(s); ok && (r.Type == gjson.Number || digits.MatchString(s)) {
		return t
	}
	return parseDate(s, layout)
}

// item builds the item of e; ok is false when it has no usable link.
func (j *jsonItems) item(e gjson.Result) (feed.Item, bool) {
	rawLink := normalize.ResolveRef(j.base, nil, jsonString(j.value(e, j.rules.Link, "link"), 0), false)
	if rawLink == "" {
		return feed.Item{}, false
	}
	n := j.n
	it := feed.Item{Source: j.src.Name}
	it.Link = normalize.EscapeURI(n.norm.StripTracking(rawLink))
	it.Canonical = n.norm.Canonical(it.Link)
	it.ID = feed.ItemID("", it.Canonical, "", time.Time{})
	page := normalize.ParseBase(it.Link)

	it.Title = normalize.CleanText(jsonString(j.value(e, j.rules.Title, "title"), 0))
	it.Summary = n.norm.HTMLOrText(jsonString(j.value(e, j.rules.Summary, "summary"), 0), j.base, page)
	it.Content = n.norm.HTMLOrText(jsonString(j.value(e, j.rules.Content, "content"), 0), j.base, page)
	d := jsonDate(j.value(e, j.rules.Date, "date"), strings.TrimSpace(j.rules.DateFormat))
	it.Published = normalize.CleanDate(d, j.now)
	// An item's picture is its Image, not an attachment.
	it.Image = normalize.ResolveURL(j.base, nil, jsonString(j.value(e, j.rules.Image, "image"), 0), false)
	if name := jsonString(j.value(e, j.rules.Author, "author"), 0); strings.TrimSpace(name) != "" {
		it.Authors = normalize.CleanPeople(j.base, []feed.Person{normalize.ParsePerson(name)})
	}

	j.rewrites.Item(&it, j.base, page)
	return it, true
}
