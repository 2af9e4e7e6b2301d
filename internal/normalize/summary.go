package normalize

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
)

// summaryRunes is the length a derived summary is cut to, in characters
// (before the ellipsis): about two sentences, what readers show in a list.
const summaryRunes = 300

// DeriveSummary returns a plain-text excerpt of the article contentHTML
// (sanitized HTML, as Item.Content), HTML-escaped so that it can stand as an
// item's Summary: its first 300 or so characters, cut at a word boundary
// and ended with "…" when cut. Headings, figures and their captions,
// tables, code blocks and players are skipped when the rest has text, since
// an excerpt is the running text. Text without spaces to cut at (Chinese,
// Japanese) is cut at 300 characters. It returns "" when there is no text.
func DeriveSummary(contentHTML string) string {
	if strings.TrimSpace(contentHTML) == "" {
		return ""
	}
	return deriveSummary(ParseFragment(contentHTML))
}

// SummaryOf is DeriveSummary of the HTML under root, a tree as
// ParseFragment builds it, for a caller that has the tree at hand.
func SummaryOf(root *nethtml.Node) string { return deriveSummary(root) }

// deriveSummary is DeriveSummary of the HTML under root.
func deriveSummary(root *nethtml.Node) string {
	if root == nil {
		return ""
	}
	// cutText decides from the first summaryRunes+1 characters.
	text := excerptText(root, true, summaryRunes+1)
	if text == "" {
		text = excerptText(root, false, summaryRunes+1)
	}
	return html.EscapeString(cutText(text, summaryRunes))
}

// excerptSkipped are the elements whose text is not running text.
var excerptSkipped = map[atom.Atom]bool{
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Figure: true, atom.Figcaption: true, atom.Table: true, atom.Pre: true,
	atom.Picture: true, atom.Video: true, atom.Audio: true, atom.Iframe: true,
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
}

// excerptText returns the text under root with whitespace collapsed and
// blocks separated by a space, without the skipped elements when skip:
// all of it, or with limit >= 0 its first limit characters only, the
// walk stopping there (a summary needs the first 301 of an article's
// thousands).
func excerptText(root *nethtml.Node, skip bool, limit int) string {
	e := excerpt{limit: limit}
	if skip {
		e.skip = excerptSkipped
	}
	e.walk(root)
	return e.b.String()
}

// excerpt collects the text of a tree as strings.Join(strings.FieldsFunc(
// blockText(root, skip), isBlank), " ") reads it, byte for byte, as it
// walks.
type excerpt struct {
	b       strings.Builder
	skip    map[atom.Atom]bool
	limit   int  // characters to keep; < 0: all
	n       int  // characters kept
	pending bool // a blank was met after the last character kept
}

// walk adds the text under n; it reports false once the limit is reached.
func (e *excerpt) walk(n *nethtml.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case nethtml.TextNode:
			if !e.text(c.Data) {
				return false
			}
		case nethtml.ElementNode:
			if e.skip[c.DataAtom] {
				continue
			}
			block := htmlElements[c.Data] == blockElement
			if block {
				e.pending = true
			}
			if !e.walk(c) {
				return false
			}
			if block {
				e.pending = true
			}
		}
	}
	return true
}

// full reports whether the limit is reached.
func (e *excerpt) full() bool { return e.limit >= 0 && e.n >= e.limit }

// text adds s; it reports false once the limit is reached. Bytes that are
// not UTF-8 are kept as they are, one character each, as FieldsFunc and
// utf8.RuneCountInString count them.
func (e *excerpt) text(s string) bool {
	for i := 0; i < len(s); {
		if e.full() {
			return false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isBlank(r) {
			e.pending = true
			i += size
			continue
		}
		if e.pending && e.b.Len() > 0 {
			e.b.WriteByte(' ')
			e.n++
			if e.full() {
				return false
			}
		}
		e.pending = false
		e.b.WriteString(s[i : i+size])
		e.n++
		i += size
	}
	return true
}

// blockText returns the text under n, without the elements in skip, with
// a space around each block element so that blocks do not run together;
// whitespace is left as it is.
func blockText(n *nethtml.Node, skip map[atom.Atom]bool) string {
	var b strings.Builder
	var walk func(*nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case nethtml.TextNode:
				b.WriteString(c.Data)
			case nethtml.ElementNode:
				if skip[c.DataAtom] {
					continue
				}
				block := htmlElements[c.Data] == blockElement
				if block {
					b.WriteByte(' ')
				}
				walk(c)
				if block {
					b.WriteByte(' ')
				}
			}
		}
	}
	walk(n)
	return b.String()
}

// cutText cuts text (whitespace already collapsed) to at most limit
// characters plus an ellipsis: at the last space when the cut falls inside
// a word and that space is in the last third, else right at the limit.
// Punctuation left dangling before the ellipsis goes.
func cutText(text string, limit int) string {
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	end, count := 0, 0
	for i := range text {
		if count == limit {
			end = i
			break
		}
		count++
	}
	cut := text[:end]
	if text[end] != ' ' {
		if sp := strings.LastIndexByte(cut, ' '); sp > 0 && utf8.RuneCountInString(cut[sp:]) <= limit/3 {
			cut = cut[:sp]
		}
	}
	cut = strings.TrimRightFunc(cut, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—([{\"'«„“", r)
	})
	return cut + "…"
}

// Thresholds of HasFullContent, in characters of text.
const (
	fullArticleRunes = 1500 // an item with this much text is a full article
	fullShareNumer   = 1    // ... and more than half of the items
	fullShareDenom   = 2    // must be such articles
)

// HasFullContent reports whether the feed whose items these are already
// carries full articles, so that fetching each article's page would only
// cost the publisher and gain nothing.
//
// An item is a full article when the text of its Content (or, without
// content, of its Summary) is at least 1,500 characters long and does not
// end like a teaser: with an ellipsis ("…", "...", "[…]") or a "read more"
// / "continue reading" invitation. Length decides because feeds do not say
// what their content is: content:encoded of many news feeds holds the
// first paragraph only, and a summary that is "much shorter" than such a
// content proves nothing. 1,500 characters is about 250 words, more than
// any teaser and less than almost any article.
//
// The feed carries full articles when more than half of its items are
// full: a few short items (a photo, a correction) do not make a feed of
// teasers. A feed without items does not.
func HasFullContent(items []feed.Item) bool {
	if len(items) == 0 {
		return false
	}
	full := 0
	for _, it := range items {
		body := it.Content
		if strings.TrimSpace(body) == "" {
			body = it.Summary
		}
		if isFullArticle(body) {
			full++
		}
	}
	return full*fullShareDenom > len(items)*fullShareNumer
}

// isFullArticle applies HasFullContent's rule to one item's HTML.
func isFullArticle(bodyHTML string) bool {
	if len(bodyHTML) < fullArticleRunes {
		return false // cheap: fewer bytes than characters needed
	}
	text := excerptText(ParseFragment(bodyHTML), false, -1)
	if utf8.RuneCountInString(text) < fullArticleRunes {
		return false
	}
	return !looksTruncated(text)
}

// teaserEndings are what feeds of teasers end their items with, lower-cased.
var teaserEndings = []string{"…", "...", "[…]", "[...]", "read more", "continue reading", "read the full story", "read the full article", "keep reading"}

// looksTruncated reports whether text ends like a teaser. Only the last few
// words count: "read more" in the middle of an article is just text.
func looksTruncated(text string) bool {
	tail := strings.ToLower(strings.TrimRightFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == '→' || r == '›'
	}))
	for _, e := range teaserEndings {
		if strings.HasSuffix(tail, e) {
			return true
		}
	}
	return false
}
