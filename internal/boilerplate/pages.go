package boilerplate

import (
	"net/url"
	"strings"

	"github.com/feedmill/feedmill/internal/feed"
)

// samePage groups items by the article page they come from, and returns
// the groups in the order of their first item, each holding its items'
// indexes in order.
//
// A page is what a reader would open: items are one page when they share
// their id, their link or their canonical URL, compared as pageKey does
// (whatever their fragment, scheme, host's case or default port; two links
// that differ by tracking parameters meet through their canonical URL,
// which has none), and the relation is transitive (an item sharing its link
// with one and its canonical with another joins both). A canonical URL
// naming a site's front page is ignored: a misconfigured rel=canonical
// pointing home on every article would otherwise make the whole site one
// page, and no furniture would ever be learned (feed.IsFrontPage, which
// publish's story grouping uses too).
//
// Merging two pages wrongly costs little: their blocks count once instead
// of twice, and the window has one article less, which keeps a block more
// often than it removes one. Not merging two items of one page makes the
// story's own paragraphs look recurring, which can remove them.
// That is why links that differ only in their fragment are one page here
// (a link blog's #a1 and #a2 count as one witness), where publish shows
// them as two stories.
func samePage(items []feed.Item) [][]int {
	parent := make([]int, len(items))
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := make(map[string]int, 3*len(items))
	join := func(key string, i int) {
		if j, ok := owner[key]; ok {
			a, b := find(i), find(j)
			if a != b {
				// The older root stays the root: groups keep the order
				// of their first item.
				parent[max(a, b)] = min(a, b)
			}
			return
		}
		owner[key] = i
	}
	for i, it := range items {
		parent[i] = i
		if it.ID != "" {
			join("id\x00"+it.Source+"\x00"+it.ID, i)
		}
		if k := pageKey(it.Link); k != "" {
			join("url\x00"+k, i)
		}
		if u, err := url.Parse(strings.TrimSpace(it.Canonical)); err == nil && !feed.IsFrontPage(u) {
			if k := pageKey(it.Canonical); k != "" {
				join("url\x00"+k, i)
			}
		}
	}
	index := make(map[int]int) // root -> its group in groups
	var groups [][]int
	for i := range items {
		r := find(i)
		g, ok := index[r]
		if !ok {
			g = len(groups)
			index[r] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// pageKey is the identity of the page at rawURL: host (lower-cased,
// without a default port), path and query, without scheme and fragment.
// It is "" for a URL that is not absolute http(s).
//
// Tracking parameters are not its business: an item's Canonical comes
// without them (normalize's rule, applied once), and it is what joins two
// links that differ by them.
func pageKey(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port != "" && port != "80" && port != "443" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	query := u.RawQuery
	if query != "" {
		path += "?" + query
	}
	return host + path
}
