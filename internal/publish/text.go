package publish

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
)

// derivedTitleLen is about how many characters of an item's text make its
// title when it has none: enough to recognize the story in a list.
const derivedTitleLen = 80

// untitled is the title of an item that has neither title nor text.
const untitled = "(untitled)"

// DisplayTitle is the title under which an item is published, in every
// feed format and on every page that lists it: its own title with white
// space collapsed, else one derived from the text of its summary or
// content (see titleFromHTML), else "(untitled)". Pages listing items use
// it too, so that they never call an item "(untitled)" that the feeds
// give a title.
func DisplayTitle(it feed.Item) string {
	if t := strings.TrimSpace(collapseSpace(it.Title)); t != "" {
		return t
	}
	return titleFromHTML(it.Summary, it.Content)
}

// Excerpt is the text of an item's summary, else of its content, read as
// DisplayTitle reads it, and cut to at most n characters at a word
// boundary, with an ellipsis: what a page listing items shows under each
// title. It is "" for an item without text.
func Excerpt(it feed.Item, n int) string {
	for _, f := range []string{it.Summary, it.Content} {
		if t := htmlText(f); t != "" {
			return truncate(t, n)
		}
	}
	return ""
}

// titleFromHTML derives a title for an item without one from the text of
// the first non-empty HTML fragment: its first derivedTitleLen characters,
// cut at a word boundary when one is near and marked with an ellipsis. Atom
// requires a title, and readers list items by title, so every format uses it.
func titleFromHTML(fragments ...string) string {
	for _, f := range fragments {
		if t := htmlText(f); t != "" {
			return truncate(t, derivedTitleLen)
		}
	}
	return untitled
}

// htmlText returns the text of an HTML fragment, entities decoded and runs
// of white space collapsed to one space. Script and style bodies are not
// text. Malformed HTML yields whatever text the tokenizer recovers.
func htmlText(fragment string) string {
	if !strings.ContainsAny(fragment, "<&") {
		return strings.TrimSpace(collapseSpace(fragment))
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(fragment))
	skip := 0 // depth inside script/style
	for {
		switch z.Next() {
		case html.ErrorToken:
			// io.EOF or a tokenizer error: either way the text so far is all
			// there is.
			return strings.TrimSpace(collapseSpace(b.String()))
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre":
				b.WriteByte(' ') // a block boundary separates words
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre":
				b.WriteByte(' ')
			}
		case html.SelfClosingTagToken:
			b.WriteByte(' ')
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		}
	}
}

// collapseSpace replaces every run of white space (and control characters)
// with one space.
func collapseSpace(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if space && b.Len() > 0 {
		b.WriteByte(' ')
	}
	return b.String()
}

// truncate returns s when it has at most n characters, else its first n
// characters, cut back to the last word boundary in their second half, with
// an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n
	for i := n; i > n/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + "…"
}
