package publish

import (
	"cmp"
	"html"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/feedmill/feedmill/internal/feed"
)

// story is one article as a published feed carries it: the copy shown and
// the copies other sources carried.
type story struct {
	// shown is the copy published: the one of the source with the highest
	// priority, ties going to the copy seen first.
	shown feed.Item
	// id is the public id of the story: that of the copy seen first, not of
	// the one shown, so that a copy of a higher-priority source arriving
	// later changes the entry in place instead of publishing it again under
	// a new id.
	id string
	// also holds one copy per other source (the shown copy's source is
	// attributed already), in priority then first-seen order.
	also []feed.Item
	// arrived is when the story last changed by gaining a copy: the latest
	// first-seen time of its copies when it has several, else zero.
	arrived time.Time
	// members are the keys of all its copies.
	members []feed.Key
}

// grouping says how one published feed recognizes a story carried several
// times.
type grouping struct {
	priority func(source string) int
	none     bool          // merge nothing: every item is a story
	byTitle  bool          // also merge near-identical titles
	window   time.Duration // for byTitle: how far apart their dates may be
}

// groupStories merges the candidate items of a feed into stories, orders
// them newest first by the shown copy's date and keeps at most limit.
//
// Two items are one story when they share a public id, a normalized link or
// a canonical URL, transitively: a copy whose canonical is another's link
// joins it. With byTitle, items of different sources whose titles are
// near-identical (see mergeTitles) and whose dates lie within the window of
// each other are merged too. With none, nothing is merged. The result does
// not depend on the order of items.
//
// A link's fragment is part of its identity: /2026/11/29#a1 and #a2 are two
// posts on one page (a day of a link blog, a live blog), never one story,
// and a canonical URL, which has no fragment, is taken with the fragment
// of the item's link. A link without a fragment and the same page's link
// with one are the same story (a copy linking to #comments, or to where
// the story starts), but only when that page has no other fragment in the
// feed and no source carries both: two items of one source with distinct
// ids are distinct stories, and "/p" cannot be told apart between "#a1"
// and "#a2".
//
// Title matching compares only titles that share a rare word (see
// mergeTitles): near-linear on real feeds, O(n²) at worst.
func groupStories(items []feed.Item, g grouping, limit int) []story {
	n := len(items)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(i, j int) { parent[find(i)] = find(j) }
	owner := make(map[string]int, 3*n)
	join := func(key string, i int) {
		if j, ok := owner[key]; ok {
			union(i, j)
			return
		}
		owner[key] = i
	}
	// pages records, per page (a link without its fragment), the sources
	// whose items link to it bare and those linking to each fragment.
	pages := make(map[string]*pageRefs)
	ref := func(page, frag string, i int) {
		key := "url\x00" + page
		if frag != "" {
			key += "#" + frag
		}
		join(key, i)
		r := pages[page]
		if r == nil {
			r = &pageRefs{frags: make(map[string]map[string]bool)}
			pages[page] = r
		}
		r.add(frag, items[i].Source)
	}
	for i, it := range items {
		if g.none {
			break
		}
		join("id\x00"+it.PublicID(), i)
		// Links and canonicals share one key space: both name the page of
		// the story, and a copy stored before canonicals existed (Canonical
		// empty) must still meet the copies that have one.
		page, frag := splitLink(it.Link)
		if page != "" {
			ref(page, frag, i)
		}
		if c := storyCanonical(it.Canonical); c != "" {
			ref(c, frag, i)
		}
	}
	for page, r := range pages {
		if f, ok := r.soleFragment(); ok {
			union(owner["url\x00"+page], owner["url\x00"+page+"#"+f])
		}
	}
	if g.byTitle && !g.none {
		mergeTitles(items, g.window, union, find)
	}

	groups := make(map[int][]int, n)
	var roots []int
	for i := range items {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	prio := g.priority
	if prio == nil {
		prio = func(string) int { return 0 }
	}
	out := make([]story, 0, len(roots))
	for _, r := range roots {
		out = append(out, makeStory(items, groups[r], prio))
	}
	slices.SortFunc(out, func(a, b story) int { return newestFirst(a.shown, b.shown) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// pageRefs are the sources whose items link to one page: bare (no
// fragment) and per fragment.
type pageRefs struct {
	bare  map[string]bool
	frags map[string]map[string]bool
}

func (r *pageRefs) add(frag, source string) {
	set := r.bare
	if frag != "" {
		set = r.frags[frag]
	}
	if set == nil {
		set = make(map[string]bool)
		if frag == "" {
			r.bare = set
		} else {
			r.frags[frag] = set
		}
	}
	set[source] = true
}

// soleFragment returns the fragment that the bare link to the page stands
// for: the only one linked on the page, when no source links to both it and
// the bare page.
func (r *pageRefs) soleFragment() (string, bool) {
	if len(r.bare) == 0 || len(r.frags) != 1 {
		return "", false
	}
	for f, srcs := range r.frags {
		for s := range srcs {
			if r.bare[s] {
				return "", false
			}
		}
		return f, true
	}
	return "", false
}

// splitLink returns the normalized link (see normalizeLink) of an absolute
// URL and its fragment, which normalizeLink drops; a link that is not an
// absolute URL has no fragment apart from itself.
func splitLink(link string) (page, frag string) {
	page = normalizeLink(link)
	if u, err := url.Parse(strings.TrimSpace(link)); err == nil && u.Scheme != "" && u.Host != "" {
		frag = u.Fragment
	}
	return page, frag
}

// makeStory builds the story of the items at idx.
func makeStory(items []feed.Item, idx []int, prio func(string) int) story {
	copies := make([]feed.Item, len(idx))
	for k, i := range idx {
		copies[k] = items[i]
	}
	// preferred orders copies by priority, then first seen: its first one
	// is shown.
	slices.SortFunc(copies, func(a, b feed.Item) int {
		if c := cmp.Compare(prio(b.Source), prio(a.Source)); c != 0 {
			return c
		}
		return seenOrder(a, b)
	})
	s := story{shown: copies[0], id: slices.MinFunc(copies, seenOrder).PublicID(), members: make([]feed.Key, len(copies))}
	for k, c := range copies {
		s.members[k] = c.Key()
	}
	if len(copies) == 1 {
		return s
	}
	named := map[string]bool{s.shown.Source: true}
	for _, c := range copies {
		if c.FirstSeen.After(s.arrived) {
			s.arrived = c.FirstSeen
		}
		if named[c.Source] {
			continue
		}
		named[c.Source] = true
		s.also = append(s.also, c)
	}
	return s
}

// seenOrder orders the copies of one story by when they were seen: earliest
// FirstSeen, then earliest date, then source name, then id.
func seenOrder(a, b feed.Item) int {
	if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
		return c
	}
	if c := a.Date().Compare(b.Date()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// storyCanonical returns the normalized canonical URL of an item, or "" when
// it has none or it cannot name one story. A canonical pointing at a site's
// front page (a misconfigured rel=canonical, common on news sites) would
// otherwise make every article of the site one story.
func storyCanonical(c string) string {
	c = normalizeLink(c)
	if c == "" {
		return ""
	}
	u, err := url.Parse(c)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	if feed.IsFrontPage(u) {
		return ""
	}
	return c
}

// minTitleWords is how many distinct words a title needs before it may be
// matched with another: short titles ("Update", "Open thread") repeat
// across unrelated stories.
const minTitleWords = 4

// A title matches another when the Jaccard similarity of their word sets
// is at least simNum/simDen: with 5 words one may differ, with 10 two. It is
// a fraction of integers so that no rounding decides a borderline pair.
const simNum, simDen = 4, 5

// mergeTitles unions the items of different sources whose titles are
// near-identical and whose dates lie within window of each other.
//
// Comparing every pair would cost O(n²) title comparisons. Instead each
// title's words are ranked rarest first and only titles sharing a word of
// their short prefix (about a fifth of their words, see prefixLen) are
// compared: two titles similar enough always share one (prefix filtering).
// News titles share their rare words only with their own copies, so few
// pairs are compared; the worst case, every title sharing its rarest word,
// is still O(n²).
func mergeTitles(items []feed.Item, window time.Duration, union func(i, j int), find func(int) int) {
	words := make([][]string, len(items))
	freq := make(map[string]int)
	for i, it := range items {
		if w := titleWords(it.Title); len(w) >= minTitleWords {
			words[i] = w
			for _, x := range w {
				freq[x]++
			}
		}
	}
	vocab := make([]string, 0, len(freq))
	for w := range freq {
		vocab = append(vocab, w)
	}
	slices.SortFunc(vocab, func(a, b string) int {
		if c := cmp.Compare(freq[a], freq[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	rank := make(map[string]int, len(vocab))
	for r, w := range vocab {
		rank[w] = r
	}

	sets := make([][]int, len(items))  // word ranks, ascending: rarest first
	index := make(map[int][]int)       // word rank -> items with it in their prefix
	checked := make([]int, len(items)) // i+1 once item i was compared with it
	for i, w := range words {
		if w == nil {
			continue
		}
		set := make([]int, len(w))
		for k, x := range w {
			set[k] = rank[x]
		}
		slices.Sort(set)
		sets[i] = set
		for _, r := range set[:prefixLen(len(set))] {
			for _, j := range index[r] {
				if checked[j] == i+1 {
					continue
				}
				checked[j] = i + 1
				if items[i].Source == items[j].Source || find(i) == find(j) {
					continue
				}
				if d := items[i].Date().Sub(items[j].Date()); d > window || d < -window {
					continue
				}
				if similarTitles(set, sets[j]) {
					union(i, j)
				}
			}
			index[r] = append(index[r], i)
		}
	}
}

// prefixLen is how many of the rarest words of a title of n words are its
// prefix. A similar title has at least o = ceil(simNum/simDen * n) words in
// common with it, and two word sets with o words in common, both ordered by
// one global order, share a word among the first n-o+1 of each.
func prefixLen(n int) int {
	return n - (simNum*n+simDen-1)/simDen + 1
}

// titleWords returns the distinct words of a title, sorted: lower-cased,
// diacritics removed (é is e), anything but letters and digits taken as a
// separator, so "Council approves new bridge plan!" and "council approves
// new bridge plan" are equal.
func titleWords(title string) []string {
	var b strings.Builder
	b.Grow(len(title))
	for _, r := range norm.NFD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark left by the decomposition: the diacritic.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	slices.Sort(words)
	return slices.Compact(words)
}

// similarTitles reports whether two sorted, distinct word lists have a
// Jaccard similarity of at least simNum/simDen.
func similarTitles[T cmp.Ordered](a, b []T) bool {
	common := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch c := cmp.Compare(a[i], b[j]); {
		case c == 0:
			common++
			i++
			j++
		case c < 0:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - common
	return union > 0 && simDen*common >= simNum*union
}

// sourcesFooter is the HTML paragraph that names the other sources of a
// story: "Also in: <a href=LINK>Title</a>, ...", each linking to that
// source's copy (plain text when it has no usable link). It depends only on
// the copies, so an unchanged story keeps its bytes and the feed its ETag.
func sourcesFooter(also []alsoCopy) string {
	if len(also) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<p class="feedmill-sources">Also in: `)
	for i, a := range also {
		if i > 0 {
			b.WriteString(", ")
		}
		if a.link == "" {
			b.WriteString(html.EscapeString(a.source.title))
			continue
		}
		b.WriteString(`<a href="`)
		b.WriteString(html.EscapeString(a.link))
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(a.source.title))
		b.WriteString(`</a>`)
	}
	b.WriteString(`</p>`)
	return b.String()
}
