// Package gen writes the synthetic feeds and items the benchmarks use:
// deterministic (the same arguments give the same bytes), shaped like real
// blog and news feeds (titles, dates, links, authors, categories, HTML
// content with links, images and lists), in RSS 2.0, Atom 1.0 and JSON
// Feed 1.1.
package gen

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Epoch is the date of entry 0; entry k is k hours later, so higher
// numbers are newer.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Entry is one article of a synthetic feed.
type Entry struct {
	ID      string
	Link    string
	Title   string
	Author  string
	Tags    []string
	Date    time.Time
	Summary string // plain text
	Content string // HTML; empty for short entries
}

// Entries returns n entries of the site at base numbered from first up,
// newest first. Long entries carry about 4 KB of HTML content, short ones
// a one-sentence summary only.
func Entries(base string, first, n int, long bool) []Entry {
	out := make([]Entry, 0, n)
	for k := first + n - 1; k >= first; k-- {
		e := Entry{
			ID:      fmt.Sprintf("%s/posts/%d", base, k),
			Link:    fmt.Sprintf("%s/posts/%d?utm_source=rss&utm_medium=feed", base, k),
			Title:   fmt.Sprintf("Notes on building things, part %d: %s", k, words[k%len(words)]),
			Author:  authors[k%len(authors)],
			Tags:    []string{words[k%len(words)], words[(k+3)%len(words)]},
			Date:    Epoch.Add(time.Duration(k) * time.Hour),
			Summary: fmt.Sprintf("A short note, number %d, about %s and %s.", k, words[k%len(words)], words[(k+5)%len(words)]),
		}
		if long {
			e.Content = article(base, k)
		}
		out = append(out, e)
	}
	return out
}

var words = []string{"gardens", "bridges", "compilers", "bread", "rivers", "typesetting", "bicycles", "clocks", "maps", "kites", "ferries", "lanterns"}

var authors = []string{"Ada Byron", "Grace Hopper", "Ken Thompson", "Barbara Liskov", "Niklaus Wirth"}

// article is about 4 KB of the HTML a blog engine writes: paragraphs with
// inline markup and links (some relative), a figure, a list, a quote and a
// code block.
func article(base string, k int) string {
	var b strings.Builder
	for p := range 6 {
		fmt.Fprintf(&b, `<p>Paragraph %d of post %d. We talk about <em>%s</em> and <strong>%s</strong>, `+
			`as <a href="%s/posts/%d">the previous post</a> promised, and about <a href="/tags/%s">everything tagged so</a>. `+
			`There is a lot to say about it, and most of it has been said before, but not quite like this; `+
			`the details matter, and they are what this paragraph is about.</p>`+"\n",
			p, k, words[(k+p)%len(words)], words[(k+p+1)%len(words)], base, k-1, words[(k+p+2)%len(words)])
		if p == 2 {
			fmt.Fprintf(&b, `<figure><img src="/img/%d.jpg" alt="A photo of %s" width="800" height="600"><figcaption>The %s, seen from afar.</figcaption></figure>`+"\n",
				k, words[k%len(words)], words[k%len(words)])
			b.WriteString("<ul><li>First, the plan.</li><li>Then, the work.</li><li>Last, <a href=\"https://example.org/ref\">the reference</a>.</li></ul>\n")
		}
		if p == 4 {
			b.WriteString("<blockquote><p>Anything worth doing is worth doing slowly.</p></blockquote>\n")
			b.WriteString("<pre><code>for i := range n {\n\tfmt.Println(i)\n}</code></pre>\n")
		}
	}
	return b.String()
}

// RSS renders entries as an RSS 2.0 channel with content:encoded and
// Dublin Core creators.
func RSS(title, base string, entries []Entry) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">` + "\n<channel>\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<link>%s/</link>\n<description>The feed of %s</description>\n<language>en</language>\n", esc(title), esc(base), esc(title))
	fmt.Fprintf(&b, "<atom:link rel=\"self\" href=\"%s/feed.xml\" type=\"application/rss+xml\"/>\n", esc(base))
	for _, e := range entries {
		b.WriteString("<item>\n")
		fmt.Fprintf(&b, "<title>%s</title>\n<link>%s</link>\n<guid isPermaLink=\"false\">%s</guid>\n", esc(e.Title), esc(e.Link), esc(e.ID))
		fmt.Fprintf(&b, "<pubDate>%s</pubDate>\n<dc:creator>%s</dc:creator>\n", e.Date.Format(time.RFC1123Z), esc(e.Author))
		for _, t := range e.Tags {
			fmt.Fprintf(&b, "<category>%s</category>\n", esc(t))
		}
		fmt.Fprintf(&b, "<description>%s</description>\n", esc(e.Summary))
		if e.Content != "" {
			fmt.Fprintf(&b, "<content:encoded><![CDATA[%s]]></content:encoded>\n", e.Content)
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	return []byte(b.String())
}

// Atom renders entries as an Atom 1.0 feed.
func Atom(title, base string, entries []Entry) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom">` + "\n")
	updated := Epoch
	if len(entries) > 0 {
		updated = entries[0].Date
	}
	fmt.Fprintf(&b, "<title>%s</title>\n<id>%s/</id>\n<link href=\"%s/\"/>\n<link rel=\"self\" href=\"%s/atom.xml\"/>\n<updated>%s</updated>\n",
		esc(title), esc(base), esc(base), esc(base), updated.Format(time.RFC3339))
	for _, e := range entries {
		b.WriteString("<entry>\n")
		fmt.Fprintf(&b, "<title>%s</title>\n<id>%s</id>\n<link rel=\"alternate\" href=\"%s\"/>\n<published>%s</published>\n<updated>%s</updated>\n<author><name>%s</name></author>\n",
			esc(e.Title), esc(e.ID), esc(e.Link), e.Date.Format(time.RFC3339), e.Date.Format(time.RFC3339), esc(e.Author))
		for _, t := range e.Tags {
			fmt.Fprintf(&b, "<category term=\"%s\"/>\n", esc(t))
		}
		fmt.Fprintf(&b, "<summary>%s</summary>\n", esc(e.Summary))
		if e.Content != "" {
			fmt.Fprintf(&b, "<content type=\"html\">%s</content>\n", esc(e.Content))
		}
		b.WriteString("</entry>\n")
	}
	b.WriteString("</feed>\n")
	return []byte(b.String())
}

// JSONFeed renders entries as a JSON Feed 1.1.
func JSONFeed(title, base string, entries []Entry) []byte {
	type author struct {
		Name string `json:"name"`
	}
	type item struct {
		ID            string    `json:"id"`
		URL           string    `json:"url"`
		Title         string    `json:"title"`
		Summary       string    `json:"summary"`
		ContentHTML   string    `json:"content_html,omitempty"`
		ContentText   string    `json:"content_text,omitempty"`
		DatePublished time.Time `json:"date_published"`
		Authors       []author  `json:"authors"`
		Tags          []string  `json:"tags"`
	}
	doc := struct {
		Version     string `json:"version"`
		Title       string `json:"title"`
		HomePageURL string `json:"home_page_url"`
		FeedURL     string `json:"feed_url"`
		Items       []item `json:"items"`
	}{Version: "https://jsonfeed.org/version/1.1", Title: title, HomePageURL: base + "/", FeedURL: base + "/feed.json"}
	for _, e := range entries {
		it := item{ID: e.ID, URL: e.Link, Title: e.Title, Summary: e.Summary, ContentHTML: e.Content,
			DatePublished: e.Date, Authors: []author{{Name: e.Author}}, Tags: e.Tags}
		if it.ContentHTML == "" {
			it.ContentText = e.Summary
		}
		doc.Items = append(doc.Items, it)
	}
	// Marshalling fixed types cannot fail.
	out, _ := json.MarshalIndent(doc, "", "  ")
	return out
}

// Items returns n normalized items of the named source numbered from first
// up, as a normalizer would deliver them, for filling a store directly.
func Items(source string, first, n int, long bool) []feed.Item {
	base := "https://" + source + ".example.org"
	entries := Entries(base, first, n, long)
	out := make([]feed.Item, len(entries))
	for i, e := range entries {
		link := strings.Split(e.Link, "?")[0]
		out[i] = feed.Item{
			Source: source, ID: e.ID, Link: link, Canonical: link, Title: e.Title,
			Summary: esc(e.Summary), Content: e.Content, RawSummary: esc(e.Summary), RawContent: e.Content,
			Authors: []feed.Person{{Name: e.Author}}, Categories: e.Tags,
			Published: e.Date, Updated: e.Date,
		}
	}
	return out
}

func esc(s string) string {
	var b strings.Builder
	// xml.EscapeText only fails when the writer does.
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
