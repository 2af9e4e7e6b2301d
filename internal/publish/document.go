package publish

import (
	"cmp"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// emptyFeedTime dates a feed that has no items, as its updated /
// lastBuildDate and Last-Modified. It must not come from the clock: the bytes,
// hence the ETag, of an empty feed would change on every rebuild and readers
// would never get a 304. It is a fixed, valid date older than any item
// feedmill will publish, so the first item moves the feed's time forward,
// and recent enough (unlike the Unix epoch) that no reader or validator takes
// it for a missing date.
var emptyFeedTime = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// sourceInfo is what an item's attribution says about its source.
type sourceInfo struct {
	name       string
	title      string   // config title, else the feed's own title, else name
	url        string   // the source feed's URL; "" when unusable
	home       string   // the source's site (state FeedLink); "" when unknown
	categories []string // configured categories
	// firstSuccess is when the source was first fetched successfully (zero
	// when never): its items dated before it are its backlog.
	firstSuccess time.Time
}

// sourceInfos merges the configured sources with their stored states.
func (p *Publisher) sourceInfos(states []feed.SourceState) map[string]sourceInfo {
	byName := make(map[string]feed.SourceState, len(states))
	for _, st := range states {
		byName[st.Name] = st
	}
	out := make(map[string]sourceInfo, len(p.sources))
	for _, s := range p.sources {
		st := byName[s.Name]
		out[s.Name] = sourceInfo{
			name:       s.Name,
			title:      firstNonBlank(s.Title, st.FeedTitle, s.Name),
			url:        cleanURL(s.URL),
			home:       cleanURL(st.FeedLink),
			categories: s.Categories,

			firstSuccess: st.FirstSuccess,
		}
	}
	return out
}

// source returns the info of a source by name; an item of a source that is
// no longer configured is attributed by its name alone.
func source(srcs map[string]sourceInfo, name string) sourceInfo {
	if s, ok := srcs[name]; ok {
		return s
	}
	return sourceInfo{name: name, title: name}
}

// newestFirst orders by date, newest first, then by key, so equal dates
// always come out in the same order.
func newestFirst(a, b feed.Item) int {
	if c := b.Date().Compare(a.Date()); c != 0 {
		return c
	}
	if c := b.LastUpdate().Compare(a.LastUpdate()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// normalizeLink returns the form of an article URL that decides whether two
// links are the same story: scheme and host lower-cased, the default port
// and the fragment removed. Anything that is not an absolute URL is kept
// as it is (trimmed); "" means no link.
func normalizeLink(link string) string {
	link = strings.TrimSpace(link)
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return link
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host, port := u.Host, u.Port()
	if port != "" {
		host = u.Host[:len(u.Host)-len(port)-1]
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	host = strings.ToLower(host)
	if port != "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// document is one feed ready to be written in any format: its current
// document or one of its archive pages.
type document struct {
	name        string
	title       string
	description string
	home        string // base URL + "/"
	base        string
	version     string
	updated     time.Time // newest item update, or emptyFeedTime
	entries     []entry

	hub   string // WebSub hub advertised; "" for none
	page  int    // archive page number, 1 the oldest; 0 for the current document
	pages int    // number of archive pages of the feed (K, see archivePages)

	source bool // a source's own feed (see SourceFeedURL): no archive pages
}

// selfURL is the document's own URL, which is also its feed-level id.
func (d *document) selfURL(f Format) string {
	if d.page > 0 {
		return ArchiveURL(d.base, d.name, f, d.page)
	}
	if d.source {
		return SourceFeedURL(d.base, d.name, f)
	}
	return FeedURL(d.base, d.name, f)
}

// archived reports whether the document is an archive page: RFC 5005 marks
// it with fh:archive.
func (d *document) archived() bool { return d.page > 0 }

// link is one feed-level link besides self and alternate.
type link struct {
	rel, href string
	typed     bool // a link to another document of the same format
}

// links returns the document's WebSub and RFC 5005 links in format f, in
// the order they are written. Following "next" (or "prev-archive") from
// the current document walks back through the archive pages to the oldest;
// "previous" (or "next-archive") walks forward again, and the newest
// archive page leads back to the current document.
func (d *document) links(f Format) []link {
	var out []link
	if d.hub != "" {
		out = append(out, link{rel: "hub", href: d.hub})
	}
	if older := d.olderURL(f); older != "" {
		out = append(out, link{"next", older, true}, link{"prev-archive", older, true})
	}
	if d.page == 0 {
		return out
	}
	newer := d.newerURL(f)
	return append(out, link{"current", FeedURL(d.base, d.name, f), true},
		link{"previous", newer, true}, link{"next-archive", newer, true})
}

// newerURL is, for an archive page, the URL of the next newer page, or of
// the current document after the newest page; "" for the current document.
func (d *document) newerURL(f Format) string {
	switch {
	case d.page == 0:
		return ""
	case d.page < d.pages:
		return ArchiveURL(d.base, d.name, f, d.page+1)
	}
	return FeedURL(d.base, d.name, f)
}

// olderURL is the URL of the archive page before this document (its
// "next" link and JSON Feed next_url), or "" when there is none.
func (d *document) olderURL(f Format) string {
	switch {
	case d.page == 0 && d.pages > 0:
		return ArchiveURL(d.base, d.name, f, d.pages)
	case d.page > 1:
		return ArchiveURL(d.base, d.name, f, d.page-1)
	}
	return ""
}

// entry is one item with every fallback already decided, so the three
// renderers say the same thing.
type entry struct {
	id         string
	link       string // "" when the item has no usable link
	title      string // never empty
	summary    string // HTML, may be empty
	content    string // HTML, may be empty
	authors    []feed.Person
	categories []string
	enclosures []feed.Enclosure
	image      string // the lead picture, absolute http(s); "" for none
	published  time.Time
	updated    time.Time
	source     sourceInfo
	srcUpdated time.Time  // newest update among this feed's entries of the source
	also       []alsoCopy // the story's copies in other sources
}

// alsoCopy is another source's copy of an entry's story.
type alsoCopy struct {
	source sourceInfo
	link   string // the copy's link; "" when unusable
}

// document prepares the stories of one feed for rendering.
func (p *Publisher) document(spec FeedSpec, stories []story, srcs map[string]sourceInfo) *document {
	d := &document{
		name:        spec.Name,
		title:       firstNonBlank(spec.Title, spec.Name),
		description: strings.TrimSpace(spec.Description),
		home:        p.base + "/",
		base:        p.base,
		version:     p.version,
		updated:     emptyFeedTime,
		entries:     make([]entry, 0, len(stories)),
	}
	srcUpdated := make(map[string]time.Time)
	for i, s := range stories {
		it := s.shown
		up := itemTime(it.LastUpdate())
		if i == 0 || up.After(d.updated) {
			d.updated = up
		}
		// A story that gained a copy changed (its footer, perhaps the copy
		// shown) although no item date says so; the feed's date must move
		// for readers that revalidate with If-Modified-Since.
		if !s.arrived.IsZero() {
			if a := itemTime(s.arrived); a.After(d.updated) {
				d.updated = a
			}
		}
		if up.After(srcUpdated[it.Source]) {
			srcUpdated[it.Source] = up
		}
	}
	for _, s := range stories {
		it := s.shown
		src := source(srcs, it.Source)
		e := entry{
			id: s.id,
			// An item its feed gave no link still leads somewhere a
			// reader can open: its source's site, as the feed gave it.
			link:       firstNonBlank(cleanURL(it.Link), src.home),
			summary:    strings.TrimSpace(it.Summary),
			content:    strings.TrimSpace(it.Content),
			categories: mergeCategories(it.Categories, src.categories),
			image:      cleanURL(it.Image),
			published:  itemTime(it.Date()),
			updated:    itemTime(it.LastUpdate()),
			source:     src,
			srcUpdated: srcUpdated[it.Source],
		}
		e.title = DisplayTitle(it)
		for _, a := range it.Authors {
			a = feed.Person{
				Name:  strings.TrimSpace(collapseSpace(a.Name)),
				Email: cleanEmail(a.Email),
				URI:   cleanURL(a.URI),
			}
			if a.Name == "" {
				// Atom needs a name; the address is the best one there is.
				a.Name = firstNonBlank(a.Email, a.URI)
			}
			if a.Name != "" {
				e.authors = append(e.authors, a)
			}
		}
		if len(e.authors) == 0 {
			e.authors = []feed.Person{{Name: src.title}}
		}
		for _, enc := range it.Enclosures {
			u := cleanURL(enc.URL)
			if u == "" {
				continue
			}
			typ := strings.TrimSpace(enc.Type)
			if typ == "" {
				// RSS requires a type and JSON Feed a mime_type.
				typ = "application/octet-stream"
			}
			e.enclosures = append(e.enclosures, feed.Enclosure{URL: u, Type: typ, Length: max(enc.Length, 0)})
		}
		for _, c := range s.also {
			e.also = append(e.also, alsoCopy{source: source(srcs, c.Source), link: cleanURL(c.Link)})
		}
		// The footer ends the body a reader shows: the content, else the
		// summary, so a summary-only item does not turn into a full-text
		// one. It comes after the title was derived, which must not read
		// "Also in".
		if footer := sourcesFooter(e.also); footer != "" {
			if e.content != "" {
				e.content += footer
			} else {
				e.summary += footer
			}
		}
		d.entries = append(d.entries, e)
	}
	return d
}

// itemTime returns t in UTC whole seconds, or emptyFeedTime for a zero time,
// so that a date is always written and always valid.
func itemTime(t time.Time) time.Time {
	if t.IsZero() {
		return emptyFeedTime
	}
	return t.UTC().Truncate(time.Second)
}

// mergeCategories returns the item's categories followed by the source's,
// trimmed, without blanks or case-insensitive repeats.
func mergeCategories(lists ...[]string) []string {
	var out []string
	seen := make(map[string]bool)
	for _, l := range lists {
		for _, c := range l {
			c = strings.TrimSpace(collapseSpace(c))
			k := strings.ToLower(c)
			if c == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

func firstNonBlank(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// cleanURL returns s trimmed when it is an absolute http(s) URL without
// characters forbidden in an IRI, else "".
func cleanURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, feed.IRIForbidden) || strings.ContainsFunc(s, isControl) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return s
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

var emailRE = regexp.MustCompile(`^[^@\s<>()"]+@[^@\s<>()"]+$`)

// cleanEmail returns s trimmed when it looks like an e-mail address, else "".
func cleanEmail(s string) string {
	s = strings.TrimSpace(s)
	if emailRE.MatchString(s) {
		return s
	}
	return ""
}
