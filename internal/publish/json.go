package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gorilla/feeds"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// The JSON Feed document types. gorilla/feeds' JSONFeed drops empty
// content_html and cannot carry our item type; its JSONItem writes the source
// as external_url and has no extension object; its JSONAttachment's size is
// an int32 that omits 0. Only its JSONAuthor says what we need.

type jsonFeed struct {
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	HomePageURL string     `json:"home_page_url"`
	FeedURL     string     `json:"feed_url"`
	Description string     `json:"description,omitempty"`
	NextURL     string     `json:"next_url,omitempty"` // the archive page before this document
	Hubs        []jsonHub  `json:"hubs,omitempty"`
	Feedmill    *jsonPage  `json:"_feedmill,omitempty"` // archive pages only
	Items       []jsonItem `json:"items"`               // [] when empty: items is required
}

type jsonHub struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// jsonPage is feedmill's extension object on an archive page. JSON Feed
// has only next_url for paging; this gives a reader that landed on an
// archive page the way forward and to the current document, as the Atom
// and RSS pages' "previous" and "current" links do.
type jsonPage struct {
	Archive     bool   `json:"archive"`
	CurrentURL  string `json:"current_url"`
	PreviousURL string `json:"previous_url"` // the newer page, or the current document
}

type jsonItem struct {
	ID            string              `json:"id"`
	URL           string              `json:"url,omitempty"`
	Title         string              `json:"title"`
	ContentHTML   string              `json:"content_html"` // required unless content_text
	Summary       string              `json:"summary,omitempty"`
	Image         string              `json:"image,omitempty"`
	DatePublished string              `json:"date_published"`
	DateModified  string              `json:"date_modified,omitempty"`
	Authors       []*feeds.JSONAuthor `json:"authors,omitempty"`
	Tags          []string            `json:"tags,omitempty"`
	Attachments   []jsonAttachment    `json:"attachments,omitempty"`
	Feedmill      *jsonExtension      `json:"_feedmill,omitempty"`
}

type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size_in_bytes,omitempty"` // unknown sizes are left out
}

// jsonExtension is feedmill's JSON Feed extension object ("_feedmill"),
// which readers that do not know it ignore.
type jsonExtension struct {
	Source jsonSource `json:"source"`
	// Also names the other sources that carried the story, in priority
	// then first-seen order; absent when only one did.
	Also []jsonAlso `json:"also,omitempty"`
}

// jsonAlso is another source's copy of an item: the source, described as in
// "source", and the copy's own link as item_url.
type jsonAlso struct {
	jsonSource
	ItemURL string `json:"item_url,omitempty"`
}

type jsonSource struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	URL         string `json:"url,omitempty"`
	HomePageURL string `json:"home_page_url,omitempty"`
}

func jsonTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func renderJSON(d *document) ([]byte, error) {
	f := jsonFeed{
		Version:     jsonFeedVersion,
		Title:       d.title,
		HomePageURL: d.home,
		FeedURL:     d.selfURL(JSON),
		Description: d.description,
		NextURL:     d.olderURL(JSON),
		Items:       make([]jsonItem, 0, len(d.entries)),
	}
	if d.hub != "" {
		f.Hubs = []jsonHub{{Type: "WebSub", URL: d.hub}}
	}
	if d.archived() {
		f.Feedmill = &jsonPage{Archive: true, CurrentURL: FeedURL(d.base, d.name, JSON), PreviousURL: d.newerURL(JSON)}
	}
	for _, e := range d.entries {
		f.Items = append(f.Items, jsonItemOf(e))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// HTML content is the payload: keep it readable instead of \u003c.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return buf.Bytes(), nil
}

func jsonItemOf(e entry) jsonItem {
	it := jsonItem{
		ID:            e.id,
		URL:           e.link,
		Title:         e.title,
		ContentHTML:   firstNonBlank(e.content, e.summary),
		Image:         e.image,
		DatePublished: jsonTime(e.published),
		Tags:          e.categories,
		Feedmill: &jsonExtension{Source: jsonSource{
			Name:        e.source.name,
			Title:       e.source.title,
			URL:         e.source.url,
			HomePageURL: e.source.home,
		}},
	}
	for _, a := range e.also {
		it.Feedmill.Also = append(it.Feedmill.Also, jsonAlso{
			jsonSource: jsonSource{Name: a.source.name, Title: a.source.title, URL: a.source.url, HomePageURL: a.source.home},
			ItemURL:    a.link,
		})
	}
	if e.content != "" && e.summary != "" {
		it.Summary = htmlText(e.summary)
	}
	if e.updated.After(e.published) {
		it.DateModified = jsonTime(e.updated)
	}
	for _, p := range e.authors {
		a := &feeds.JSONAuthor{Name: p.Name, Url: p.URI}
		if a.Url == "" && p.Email != "" {
			// JSON Feed authors have no e-mail field; the spec allows a
			// mailto: URL.
			a.Url = "mailto:" + p.Email
		}
		it.Authors = append(it.Authors, a)
	}
	for _, enc := range e.enclosures {
		it.Attachments = append(it.Attachments, jsonAttachment{URL: enc.URL, MIMEType: enc.Type, Size: enc.Length})
	}
	return it
}
