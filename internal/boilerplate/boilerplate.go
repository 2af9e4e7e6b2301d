// Package boilerplate learns a source's furniture from its recent articles
// and removes it, with no rules to write.
//
// News sites wrap every story in the same furniture: a banner ("Enjoying
// ad-free content? Support us"), a fixed photo credit, a donation appeal after
// the story, a newsletter box between two paragraphs, a "Read more" heading
// over links to other stories, a row of share buttons, a cookie notice.
// Readability keeps much of it, because it sits inside the article. What tells
// furniture from story is repetition: a block of text (a paragraph, a list
// item, a heading, a leaf box) that recurs across a large share of one
// source's recent articles belongs to the site, not to any one story.
//
// Learn counts, over a window of a source's most recent items, in how many
// articles each block occurs; Model.Clean removes the blocks that recur often
// enough, and what they leave behind: the links listed under a recurring
// heading and the boxes emptied by the removal. The package is pure: no I/O,
// no global state, and it only ever removes nodes from the HTML it is given.
//
// An article is a page, not an item: the items that link to one page (by
// their id, their link or their canonical URL, whatever tracking
// parameters, fragment or scheme tell them apart) are one witness, so that
// a page fetched twice does not make its own paragraphs recurring.
//
// A block without text (an image, a row of icons, a player) is furniture
// only when it is the site's chrome, because a picture recurs for reasons
// text does not: a blog reuses the author's drawing, a series has its
// banner, a paper its file photo of the town hall. Such a block must occur
// in nearly all recent articles (80% of them, see nearlyAll), and also
// either
//
//   - look like chrome in most of the articles it is in: a word naming
//     chrome (logo, banner, masthead, sprite, icon, avatar, badge, button,
//     pixel, spacer) in the path of its URL, its alt text or its title; a
//     template folder in that path (static, theme, template, skin); or a
//     declared width or height of 64 pixels or less; or
//   - sit beside a text block (the block just before or after it) with
//     which it recurs, side by side, in nearly all recent articles too: a
//     fixed photo over a fixed "Photo: Staff" credit is the site's stock
//     header, and both go.
//
// Otherwise it stays, however often it recurs: a photo reused in a few
// articles, or in every post of a small blog, is still a photo, and a
// series banner is in the series' posts, not in nearly all of them. A
// recurring credit line under a photo that is reused in only some articles
// goes (it is text that recurs) and the photo stays. A block with text and
// an image is compared as text is (its image's URL is part of its
// signature), since its text is what recurs.
package boilerplate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/feedmill/feedmill/internal/normalize"
	"golang.org/x/net/html"

	"github.com/feedmill/feedmill/internal/feed"
)

// Window is how many of a source's most recent articles a model learns from:
// the caller reads this many from the store. It bounds the cost of learning
// whatever the source's size, and it is large enough that furniture appears
// many times in it while a run of related stories stays a small share of it.
const Window = 100

// Model is the learned furniture of one source. It is immutable and safe for
// concurrent use; the nil *Model knows no furniture.
type Model struct {
	articles  int            // articles learned from
	furniture map[string]int // signature of each furniture block -> articles it was seen in
	key       string
}

// Learn builds the model of one source from its recent items, newest first.
// Only the first Window items are read. The unit of evidence is the article
// page, not the item: the items of one page (the same id, link or
// canonical URL: see samePage) are one article, made of all their
// RawContent and RawSummary (Content and Summary when those are empty), and
// it counts once however often a block recurs inside it. A page fetched
// twice, for two items linking to it, is one witness: otherwise its own
// paragraphs would look like furniture. An article republished under
// another URL with the same blocks counts once too. Pages with no text count
// for nothing.
func Learn(items []feed.Item) *Model {
	return learn(items, nil)
}

// LearnKeeping is Learn, also keeping the trees it read, so that cleaning
// the items it learned from (CleanKept) parses none of them again. parsed
// may hold trees already built for some fragments, by fragment, each the
// one normalize.ParseFragment builds of it (normalize.Feed.Trees): those
// are read instead of parsing the fragments. LearnKeeping takes the map
// over: the trees it read are added to it, and cleaning takes them out.
func LearnKeeping(items []feed.Item, parsed map[string]*html.Node) (*Model, *Trees) {
	if parsed == nil {
		parsed = make(map[string]*html.Node)
	}
	t := &Trees{byFragment: parsed, blocks: make(map[*html.Node][]block)}
	return learn(items, t), t
}

// Trees holds parsed trees of fragments, by fragment: those Learn read,
// with the blocks it found in each. Cleaning removes nodes from a tree, so
// each serves one CleanKept; a fragment cleaned again is parsed again. The
// nil *Trees holds none.
type Trees struct {
	byFragment map[string]*html.Node
	// blocks are the blocks of each tree as Learn read it, which is as
	// cleaning finds it: reading blocks leaves a tree as it is.
	blocks map[*html.Node][]block
}

// take returns the tree of fragment and its blocks (nil when they were
// not read), and forgets them; nil when there is no tree.
func (t *Trees) take(fragment string) (*html.Node, []block) {
	if t == nil {
		return nil, nil
	}
	root := t.byFragment[fragment]
	delete(t.byFragment, fragment)
	bs := t.blocks[root]
	delete(t.blocks, root)
	return root, bs
}

func learn(items []feed.Item, keep *Trees) *Model {
	if len(items) > Window {
		items = items[:Window]
	}
	l := learner{
		keep:   keep,
		counts: make(map[string]int),
		looks:  make(map[string]int),
		pairs:  make(map[pair]int),
		set:    make(map[string]bool),
		pset:   make(map[pair]struct{}),
	}
	seenSets := make(map[uint64]bool)
	seed := maphash.MakeSeed() // sums are compared within this call only
	for _, page := range samePage(items) {
		clear(l.set)
		clear(l.pset)
		for _, i := range page {
			l.read(items[i])
		}
		if len(l.set) == 0 {
			continue
		}
		// The sum of the blocks' hashes identifies the set whatever the
		// order: equal sets are one article however often it was posted.
		var sum uint64
		for sig := range l.set {
			sum += maphash.String(seed, sig)
		}
		if seenSets[sum] {
			continue
		}
		seenSets[sum] = true
		l.articles++
		for sig, chrome := range l.set {
			l.counts[sig]++
			if chrome {
				l.looks[sig]++
			}
		}
		for p := range l.pset {
			l.pairs[p]++
		}
	}
	return l.model()
}

// learner holds what Learn counts.
type learner struct {
	articles int
	counts   map[string]int // signature -> articles it occurs in
	looks    map[string]int // signature of a media block -> articles where it looks like chrome
	pairs    map[pair]int   // a media block beside a text block -> articles where they are side by side

	// The article being read: its blocks (for a media block, whether it
	// looks like chrome there) and its pairs.
	set  map[string]bool
	pset map[pair]struct{}

	keep *Trees // where the trees read are kept, or nil
}

// pair is a media block (its signature) and a text block beside it.
type pair struct{ media, text string }

// read adds the blocks of one item to the article being read.
func (l *learner) read(it feed.Item) {
	for _, fragment := range [2]string{
		firstNonEmpty(it.RawContent, it.Content),
		firstNonEmpty(it.RawSummary, it.Summary),
	} {
		var root *html.Node
		if l.keep != nil {
			root = l.keep.byFragment[fragment]
		}
		if root == nil {
			root = normalize.ParseFragment(fragment)
			if l.keep != nil {
				// Reading the blocks leaves the tree as it is.
				l.keep.byFragment[fragment] = root
			}
		}
		bs := blocks(root)
		if l.keep != nil {
			l.keep.blocks[root] = bs
		}
		for i, b := range bs {
			if !mediaOnly(b.sig) {
				if _, ok := l.set[b.sig]; !ok {
					l.set[b.sig] = false
				}
				continue
			}
			l.set[b.sig] = l.set[b.sig] || looksLikeChrome(b.first, b.last)
			for _, j := range [2]int{i - 1, i + 1} {
				if j >= 0 && j < len(bs) && !mediaOnly(bs[j].sig) {
					l.pset[pair{b.sig, bs[j].sig}] = struct{}{}
				}
			}
		}
	}
}

// model is the model of what was counted: the blocks that recur often
// enough, and among the blocks without text only the site's chrome (see
// the package doc).
func (l *learner) model() *Model {
	m := &Model{articles: l.articles}
	need, all := threshold(l.articles), nearlyAll(l.articles)
	if need == 0 {
		return m
	}
	beside := make(map[string]bool) // media blocks that recur beside one text block in nearly all articles
	for p, seen := range l.pairs {
		if seen >= all {
			beside[p.media] = true
		}
	}
	for sig, seen := range l.counts {
		if seen < need {
			continue
		}
		if mediaOnly(sig) && (seen < all || (2*l.looks[sig] < seen && !beside[sig])) {
			continue
		}
		if m.furniture == nil {
			m.furniture = make(map[string]int)
		}
		m.furniture[sig] = seen
	}
	m.key = fingerprint(m.furniture)
	return m
}

// mediaOnly reports whether sig is the signature of a block without text:
// images, players and the like alone (see signature).
func mediaOnly(sig string) bool { return sig != "" && sig[0] == 0 }

// threshold is in how many of n articles a block must occur to be furniture;
// 0 means that nothing is.
//
//   - Below 3 articles nothing is: two articles sharing a block may share a
//     quote, and there is no third to tell.
//   - A block is never furniture on the strength of one article: the
//     threshold is at least 2.
//   - With 3 or 4 articles, a strict majority (2 of 3, 3 of 4), so that a
//     new source benefits from its first articles.
//   - From 5 articles on, at least 3 articles and at least 30% of them. Two
//     stories of a small source may legitimately share a paragraph (a quote, a
//     background paragraph of a follow-up), so a pair stops counting once
//     there is enough history to ask for more; a run of follow-ups sharing a
//     paragraph is a few articles, a small share of a full window. 30% still
//     catches furniture that a site shows only on some articles (a newsletter
//     box on 40% of them) in a full window of 100. In a small window such
//     intermittent furniture (2 of 5) is indistinguishable from a shared
//     quote and is kept: publishing a box is a lesser harm than losing part
//     of a story.
func threshold(n int) int {
	switch {
	case n < 3:
		return 0
	case n <= 4:
		return n/2 + 1
	default:
		return max(3, (3*n+9)/10) // ceil(0.3 n) in integers
	}
}

// nearlyAll is in how many of n articles a block without text must occur
// to be the site's chrome: 80% of them, rounded up (3 of 3, 4 of 5, 80 of
// 100); 0 below 3 articles, where nothing is furniture.
func nearlyAll(n int) int {
	if threshold(n) == 0 {
		return 0
	}
	return n - n/5
}

// fingerprint is the Key of a furniture set: a hash of its sorted
// signatures, "" for the empty set. The version prefix changes whenever the
// way blocks are found or compared changes, so that stored items are cleaned
// again by a new release.
func fingerprint(furniture map[string]int) string {
	if len(furniture) == 0 {
		return ""
	}
	sigs := make([]string, 0, len(furniture))
	for sig := range furniture {
		sigs = append(sigs, sig)
	}
	slices.Sort(sigs)
	h := sha256.New()
	h.Write([]byte("boilerplate v1\x00"))
	for _, sig := range sigs {
		fmt.Fprintf(h, "%d:%s", len(sig), sig)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Key fingerprints the furniture set: equal for equal sets whatever the
// order or number of articles learned, "" when nothing is furniture. The
// caller stores it and cleans its stored items again when it changes: how
// often each block was seen is not part of it, since it does not change what
// Clean removes.
func (m *Model) Key() string {
	if m == nil {
		return ""
	}
	return m.key
}

// Articles is how many articles the model learned from: the distinct pages
// with text among the first Window items it was given.
func (m *Model) Articles() int {
	if m == nil {
		return 0
	}
	return m.articles
}

// Removal is one thing Clean removed, for explaining it to a user.
type Removal struct {
	// Tag is the element removed ("p", "ul"), or "" for inline content
	// outside any block element.
	Tag string
	// Text is its visible text, whitespace collapsed and cut to 80
	// characters; "[image]" or "[media]" when it has none.
	Text string
	// Seen is in how many of the Of recent articles the furniture block
	// occurred.
	Seen, Of int
	// Under is empty for a furniture block itself. For the links removed
	// with one (the list of stories under a recurring "Read more" heading,
	// which differ in every article), it is the text of that block, and Seen
	// counts the block.
	Under string
}

// String says what was removed and why, as
// `<p> "Dear readers, …" seen in 5 of 6 recent articles`.
func (r Removal) String() string {
	what := "text"
	if r.Tag != "" {
		what = "<" + r.Tag + ">"
	}
	if r.Under != "" {
		return fmt.Sprintf("%s %q: links under %q, seen in %d of %d recent articles", what, r.Text, r.Under, r.Seen, r.Of)
	}
	return fmt.Sprintf("%s %q seen in %d of %d recent articles", what, r.Text, r.Seen, r.Of)
}

// firstNonEmpty returns the first of a and b that is not empty.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shorten cuts s to at most n characters, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return strings.TrimSpace(string(runes[:n-1])) + "…"
}
