package scrape

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/normalize"
)

// Turning inferred items into rules. Every rule is checked against the
// page: a field's selector is the one, among those describing where the
// field sits in each item, that gives the inferred value in the most
// items; items whose link the rule does not find are dropped, so that
// the rules, applied by Scrape, give exactly the inferred items.

// minFieldShare is the share of items in which an optional field (date,
// summary, image) must be found for its rule to be kept.
const minFieldShare = 0.5

// rules derives the rules of the item elements ms; it returns them with
// the items they find.
func (in *inferrer) rules(ms []*nethtml.Node) (feed.ItemRules, []*nethtml.Node) {
	var r feed.ItemRules
	links := make(map[*nethtml.Node]*nethtml.Node, len(ms))
	for _, m := range ms {
		links[m] = in.primaryLink(m)
	}

	// Link: the rule must find every kept item's headline URL.
	var specs []string
	for _, m := range ms {
		if l := links[m]; l != nil {
			for _, spec := range relativeSpecs(m, l) {
				specs = append(specs, spec+"@href")
			}
		}
	}
	spec, ok := in.bestSpec(specs, ms, func(m *nethtml.Node, f field) bool {
		return in.s.linkKey(in.s.rawLink(m, f)) == in.info[m].headline
	})
	if !ok {
		return r, nil
	}
	r.Link = spec.spec
	kept := ms[:0:0]
	for _, m := range ms {
		if in.s.linkKey(in.s.rawLink(m, spec)) == in.info[m].headline {
			kept = append(kept, m)
		}
	}
	ms = kept

	// Title: the heading holding the link, else the link.
	want := make(map[*nethtml.Node]string, len(ms))
	specs = specs[:0]
	for _, m := range ms {
		t := titleNode(m, links[m])
		want[m] = pageText(nodeText(t))
		specs = append(specs, relativeSpecs(m, t)...)
	}
	// Last, so that an explicit selector that does as well wins: the
	// default title (the first heading, else the link), which fits
	// items of different shapes at once.
	if spec, ok := in.bestSpec(specs, ms, func(m *nethtml.Node, f field) bool {
		return want[m] != "" && in.s.titleOf(m, f) == want[m]
	}, ""); ok {
		r.Title = spec.spec
	}

	// Date: a <time>, or a short element whose text is a date.
	specs = specs[:0]
	for _, m := range ms {
		if d, attr := dateNode(m, links[m]); d != nil {
			for _, spec := range relativeSpecs(m, d) {
				if spec == "" {
					spec = ":scope"
				}
				if attr != "" {
					specs = append(specs, spec+"@"+attr)
				}
				specs = append(specs, spec)
			}
		}
	}
	if spec, ok := in.bestOptional(specs, ms, func(m *nethtml.Node, f field) bool {
		return !in.s.dateOf(m, f, "").IsZero()
	}); ok {
		r.Date = spec
	}

	// Summary: a paragraph of running text beside the headline.
	specs = specs[:0]
	for _, m := range ms {
		if p := summaryNode(m, links[m]); p != nil {
			specs = append(specs, relativeSpecs(m, p)...)
		}
	}
	if spec, ok := in.bestOptional(specs, ms, func(m *nethtml.Node, f field) bool {
		node := f.node(m)
		return node != nil && node != m && isSummary(node, links[m])
	}); ok {
		r.Summary = spec
	}

	// Image: the first image.
	specs = specs[:0]
	for _, m := range ms {
		if img := firstImage(m); img != nil {
			attr := "@src"
			if strings.TrimSpace(normalize.Attr(img, "src")) == "" {
				attr = "@srcset"
			}
			for _, spec := range relativeSpecs(m, img) {
				specs = append(specs, spec+attr)
			}
		}
	}
	if spec, ok := in.bestOptional(specs, ms, func(m *nethtml.Node, f field) bool {
		return in.s.imageURL(m, f) != ""
	}); ok {
		r.Image = spec
	}

	r.Each = in.eachSelector(ms, spec)
	if r.Each == "" {
		return r, nil
	}
	return r, ms
}

// maxSpecs is how many candidate selectors of a field are tried, the most
// common first: items with classes of their own must not make the
// inference quadratic.
const maxSpecs = 24

// bestSpec returns the field among specs, then always, that satisfies ok
// in the most elements of ms (ties go to the earlier one); false when none
// does in any. Of more than maxSpecs distinct specs, the most common are
// tried. When none satisfies ok in every element, a selector group of
// specs that does better is taken (unionSpec): a lead story's "h2 > a"
// beside the cards' "h3 > a".
func (in *inferrer) bestSpec(specs []string, ms []*nethtml.Node, ok func(*nethtml.Node, field) bool, always ...string) (field, bool) {
	count := make(map[string]int)
	var uniq []string
	for _, spec := range specs {
		if count[spec] == 0 {
			uniq = append(uniq, spec)
		}
		count[spec]++
	}
	if len(uniq) > maxSpecs {
		// Keep the most common, in their first order.
		byCount := slices.Clone(uniq)
		slices.SortStableFunc(byCount, func(a, b string) int { return count[b] - count[a] })
		keep := make(map[string]bool, maxSpecs)
		for _, spec := range byCount[:maxSpecs] {
			keep[spec] = true
		}
		uniq = slices.DeleteFunc(uniq, func(spec string) bool { return !keep[spec] })
	}
	var best field
	bestN := 0
	for _, spec := range append(uniq, always...) {
		f, err := parseField(spec, cascadia.Compile)
		if err != nil {
			continue
		}
		n := 0
		for _, m := range ms {
			if ok(m, f) {
				n++
			}
		}
		if n > bestN {
			best, bestN = f, n
		}
	}
	if bestN > 0 && bestN < len(ms) && len(ms) <= maxUnionItems {
		// Items of different shapes (a lead story, a second group of
		// cards) may each need a selector of their own.
		if f, n := in.unionSpec(uniq, ms, ok); n > bestN {
			best, bestN = f, n
		}
	}
	return best, bestN > 0
}

// Bounds of a field's selector group: how many selectors it may join,
// how many first selectors are tried, and how many items a group is
// sought for at most (each try matches every candidate in every item:
// front pages whose items differ in shape hold tens of them, and a long
// list is of one shape).
const (
	maxUnionParts  = 4
	maxUnionStarts = 6
	maxUnionItems  = 200
)

// unionSpec returns a selector group of specs that satisfies ok in more
// elements of ms than any one of them, with the number it satisfies it
// in (0 when none does better than one alone). Starting from each of the
// maxUnionStarts specs that satisfy ok in the most elements, it adds,
// while elements are left and it has fewer than maxUnionParts, the spec
// with which the group satisfies ok in the most, never losing an element
// it satisfied; the best group wins. Only
// specs that select an element (not the item itself) and take the same
// attribute are joined: "h3.card__title, h2@href" is not a field.
func (in *inferrer) unionSpec(specs []string, ms []*nethtml.Node, ok func(*nethtml.Node, field) bool) (field, int) {
	type part struct{ sel, attr string }
	var parts []part
	for _, spec := range specs {
		sel, attr := spec, ""
		if at := attrSplit(spec); at >= 0 {
			sel, attr = strings.TrimSpace(spec[:at]), spec[at+1:]
		}
		if sel != "" && sel != ":scope" {
			parts = append(parts, part{sel, attr})
		}
	}
	// satisfied returns the spec of the group sels taking attr, the
	// elements it satisfies ok in, and how many.
	satisfied := func(sels []string, attr string) (field, []bool, int) {
		spec := strings.Join(sels, ", ")
		if attr != "" {
			spec += "@" + attr
		}
		f, err := parseField(spec, cascadia.Compile)
		if err != nil {
			return f, nil, 0
		}
		got := make([]bool, len(ms))
		n := 0
		for i, m := range ms {
			if ok(m, f) {
				got[i] = true
				n++
			}
		}
		return f, got, n
	}
	type start struct {
		p   part
		f   field
		got []bool
		n   int
	}
	var starts []start
	for _, p := range parts {
		if f, got, n := satisfied([]string{p.sel}, p.attr); n > 0 {
			starts = append(starts, start{p, f, got, n})
		}
	}
	if len(starts) == 0 {
		return field{}, 0
	}
	slices.SortStableFunc(starts, func(a, b start) int { return b.n - a.n })
	single := starts[0].n
	// The spec that fits the most items alone may be the one no group
	// can build on (a bare "a" that takes an author link first in some
	// items): a few starts are tried.
	var best field
	bestN := 0
	for _, st := range starts[:min(len(starts), maxUnionStarts)] {
		f, got, n, group := st.f, st.got, st.n, []string{st.p.sel}
		for n < len(ms) && len(group) < maxUnionParts {
			var next []string
			var nextF field
			var nextGot []bool
			nextN := n
			for _, p := range parts {
				if p.attr != st.p.attr || slices.Contains(group, p.sel) {
					continue
				}
				sels := append(slices.Clone(group), p.sel)
				if cf, cgot, k := satisfied(sels, p.attr); k > nextN && keeps(cgot, got) {
					next, nextF, nextGot, nextN = sels, cf, cgot, k
				}
			}
			if next == nil {
				break
			}
			f, got, n, group = nextF, nextGot, nextN, next
		}
		if len(group) > 1 && n > bestN {
			best, bestN = f, n
		}
	}
	if bestN <= single {
		return field{}, 0
	}
	return best, bestN
}

// keeps reports whether got holds every element was holds.
func keeps(got, was []bool) bool {
	for i := range was {
		if was[i] && !got[i] {
			return false
		}
	}
	return true
}

// bestOptional is bestSpec for a field kept only when found in at least
// minFieldShare of the elements.
func (in *inferrer) bestOptional(specs []string, ms []*nethtml.Node, ok func(*nethtml.Node, field) bool) (string, bool) {
	f, found := in.bestSpec(specs, ms, ok)
	if !found {
		return "", false
	}
	n := 0
	for _, m := range ms {
		if ok(m, f) {
			n++
		}
	}
	return f.spec, float64(n) >= minFieldShare*float64(len(ms))
}

// primaryLink returns the link to m's headline URL that carries the
// headline: one in a heading, else one with headline text, else the
// first.
func (in *inferrer) primaryLink(m *nethtml.Node) *nethtml.Node {
	key := in.info[m].headline
	var first, texted *nethtml.Node
	var found *nethtml.Node
	var walk func(n *nethtml.Node) bool
	walk = func(n *nethtml.Node) bool {
		if l := in.byNode[n]; l != nil && l.key == key {
			if first == nil {
				first = n
			}
			if l.headline && texted == nil {
				texted = n
			}
			if l.headline && l.inHeading {
				found = n
				return true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == nethtml.ElementNode && walk(c) {
				return true
			}
		}
		return false
	}
	walk(m)
	switch {
	case found != nil:
		return found
	case texted != nil:
		return texted
	}
	return first
}

// titleNode returns the element whose text is the item's title: the
// heading holding the link, else the heading the link holds, else the
// link when its text is a headline, else m's first heading, else the link.
func titleNode(m, link *nethtml.Node) *nethtml.Node {
	if link == nil {
		return m
	}
	if h := firstHeading(link); h != nil && headlineLike(pageText(nodeText(h))) {
		return h // a link wrapping its heading
	}
	for p := link; p != nil; p = p.Parent {
		if headings[p.DataAtom] {
			return p
		}
		if p == m {
			break
		}
	}
	if !headlineLike(pageText(nodeText(link))) {
		if h := firstHeading(m); h != nil {
			return h
		}
	}
	return link
}

// dateNode returns the element holding m's date and the attribute it is
// in: the first <time> (its datetime), else the first short element
// outside the link whose whole text is a date.
func dateNode(m, link *nethtml.Node) (*nethtml.Node, string) {
	if ts := normalize.FindAll(m, atom.Time); len(ts) > 0 {
		if strings.TrimSpace(normalize.Attr(ts[0], "datetime")) != "" {
			return ts[0], "datetime"
		}
		return ts[0], ""
	}
	var found *nethtml.Node
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode || c == link {
				continue
			}
			if t := pageText(nodeText(c)); t != "" && len(t) <= 60 && !contains(c, link) && !parseWholeDate(t, "").IsZero() {
				found = c
				return
			}
			walk(c)
		}
	}
	walk(m)
	if found != nil {
		return found, ""
	}
	// A date in m's own text, beside the link ("<li><a>...</a> — 12
	// April 2025</li>"): m itself, whose text is searched for it.
	var b strings.Builder
	var text func(n *nethtml.Node)
	text = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == nethtml.TextNode:
				b.WriteString(c.Data)
				b.WriteByte(' ')
			case c.Type == nethtml.ElementNode && c != link:
				text(c)
			}
		}
	}
	text(m)
	if !parseDate(b.String(), "").IsZero() {
		return m, ""
	}
	return nil, ""
}

// contains reports whether d is n or one of its descendants.
func contains(n, d *nethtml.Node) bool {
	for p := d; p != nil; p = p.Parent {
		if p == n {
			return true
		}
	}
	return false
}

// summaryNode returns m's first element of running text beside the link.
func summaryNode(m, link *nethtml.Node) *nethtml.Node {
	var found *nethtml.Node
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode || headings[c.DataAtom] || c.DataAtom == atom.A {
				continue
			}
			if (c.DataAtom == atom.P || c.DataAtom == atom.Div) && isSummary(c, link) {
				found = c
				return
			}
			walk(c)
		}
	}
	walk(m)
	return found
}

// isSummary reports whether e reads as a teaser's text: six words or
// more, not a date, not holding nor inside the headline link.
func isSummary(e, link *nethtml.Node) bool {
	if link != nil && (contains(e, link) || contains(link, e)) {
		return false
	}
	t := pageText(nodeText(e))
	return len(strings.Fields(t)) >= 6 && !looksLikeDate(t)
}

// firstImage returns m's first image with a source.
func firstImage(m *nethtml.Node) *nethtml.Node {
	for _, img := range normalize.FindAll(m, atom.Img) {
		if strings.TrimSpace(normalize.Attr(img, "src")) != "" || strings.TrimSpace(normalize.Attr(img, "srcset")) != "" {
			return img
		}
	}
	return nil
}

// relativeSpecs returns selectors for target relative to the item element
// m, most telling first: "" when target is m, else its tag with one of its
// classes, with all of them, alone, and with its parent or its heading
// before it.
func relativeSpecs(m, target *nethtml.Node) []string {
	if target == m {
		return []string{""}
	}
	tag := target.Data
	var specs []string
	for _, c := range stableClasses(target) {
		specs = append(specs, tag+"."+c)
	}
	if d := describe(target); d != tag && len(stableClasses(target)) > 1 {
		specs = append(specs, d)
	}
	specs = append(specs, tag)
	if p := target.Parent; p != nil && p != m {
		specs = append(specs, p.Data+" > "+tag)
		if d := describe(p); d != p.Data {
			specs = append(specs, d+" > "+tag)
		}
	}
	for p := target.Parent; p != nil && p != m; p = p.Parent {
		if headings[p.DataAtom] {
			specs = append(specs, p.Data+" "+tag)
			break
		}
	}
	return specs
}

// cssIdent matches class names and ids that can be written in a selector
// as they are.
var cssIdent = regexp.MustCompile(`^-?[_a-zA-Z][_a-zA-Z0-9-]*$`)

// unstableClass matches classes that differ between items of one list:
// ids ("post-1234"), states, positions, a blog's per-post taxonomy
// ("category-news", "tag-ferries").
var unstableClass = regexp.MustCompile(`[0-9]{3,}|^(is|has|js|category|tag|format|status)-|^(active|current|selected|first|last|odd|even|hover|focus|visited|new|sticky)$`)

// stableClasses returns e's classes that can describe all items of a
// list, sorted, at most four.
func stableClasses(e *nethtml.Node) []string {
	var out []string
	for c := range strings.FieldsSeq(normalize.Attr(e, "class")) {
		if cssIdent.MatchString(c) && !unstableClass.MatchString(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	if len(out) > 4 {
		out = out[:4]
	}
	return out
}

// describe returns e's tag and stable classes as a selector ("li.teaser").
func describe(e *nethtml.Node) string {
	d := e.Data
	for _, c := range stableClasses(e) {
		d += "." + c
	}
	return d
}

// usableID returns e's id when a selector can name it, else "".
func usableID(e *nethtml.Node) string {
	id := strings.TrimSpace(normalize.Attr(e, "id"))
	if !cssIdent.MatchString(id) {
		return ""
	}
	return id
}

// eachSelector returns a selector (group) that matches the elements ms
// in the page and no other element that gives a link by the rule link
// (Scrape skips those), or "" when none could be made. It tries one
// selector for all of them (their tag and a class they share), then one
// per tag, then one per shape (tag and classes), each made more precise
// with ancestors when needed (groupSelector), and last their paths.
func (in *inferrer) eachSelector(ms []*nethtml.Node, link field) string {
	want := make(map[*nethtml.Node]bool, len(ms))
	for _, m := range ms {
		want[m] = true
	}
	allowed := func(e *nethtml.Node) bool {
		return want[e] || in.beyondHorizon(e) || in.s.rawLink(e, link) == ""
	}
	for _, partition := range []func(*nethtml.Node) string{
		func(*nethtml.Node) string { return "" },
		func(e *nethtml.Node) string { return e.Data },
		describe,
	} {
		if each := in.partitionSelector(ms, partition, allowed); each != "" {
			return each
		}
	}
	if len(ms) > maxPathItems {
		return ""
	}
	var paths []string
	for _, m := range ms {
		paths = append(paths, nthPath(m))
	}
	if each := strings.Join(paths, ", "); in.exact(each, ms, allowed) {
		return each
	}
	return ""
}

// Bounds on making selectors: each candidate is matched against the whole
// page.
const (
	maxPathItems = 50 // items that may be selected one by one, by their paths
	maxParts     = 12 // selectors in a group
)

// partitionSelector splits ms by key and finds a selector for each part;
// "" when a part needs its elements' own paths.
func (in *inferrer) partitionSelector(ms []*nethtml.Node, key func(*nethtml.Node) string, allowed func(*nethtml.Node) bool) string {
	var keys []string
	parts := make(map[string][]*nethtml.Node)
	for _, m := range ms {
		k := key(m)
		if _, ok := parts[k]; !ok {
			keys = append(keys, k)
		}
		parts[k] = append(parts[k], m)
	}
	if len(keys) > maxParts {
		return ""
	}
	var sels []string
	var matched [][]*nethtml.Node
	for _, k := range keys {
		group := parts[k]
		sel, got, ok := in.groupSelector(group, allowed)
		if !ok {
			return ""
		}
		sels = append(sels, sel)
		matched = append(matched, got)
	}
	// A part whose elements another part matches too adds nothing.
	for i := 0; i < len(sels) && len(sels) > 1; i++ {
		others := make(map[*nethtml.Node]bool)
		for j, got := range matched {
			if j != i {
				for _, e := range got {
					others[e] = true
				}
			}
		}
		redundant := true
		for _, e := range matched[i] {
			redundant = redundant && others[e]
		}
		if redundant {
			sels = slices.Delete(sels, i, i+1)
			matched = slices.Delete(matched, i, i+1)
			i--
		}
	}
	each := strings.Join(sels, ", ")
	if !in.exact(each, ms, allowed) {
		return ""
	}
	return each
}

// shapes returns the base selectors for group, most telling first: its
// common tag with each class all its elements share (shorter class names
// first, as they are the generic ones), with all of them, and alone; none
// when the tags differ.
func shapes(group []*nethtml.Node) []string {
	tag := group[0].Data
	common := stableClasses(group[0])
	for _, e := range group[1:] {
		if e.Data != tag {
			return nil
		}
		cs := stableClasses(e)
		common = slices.DeleteFunc(common, func(c string) bool { return !slices.Contains(cs, c) })
	}
	slices.SortStableFunc(common, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, c := range common {
		out = append(out, tag+"."+c)
	}
	if len(common) > 1 {
		sorted := slices.Clone(common)
		slices.Sort(sorted)
		out = append(out, tag+"."+strings.Join(sorted, "."))
	}
	return append(out, tag)
}

// exact reports whether sel matches all of ms and nothing else but
// allowed elements.
func (in *inferrer) exact(sel string, ms []*nethtml.Node, allowed func(*nethtml.Node) bool) bool {
	m, err := cascadia.Compile(sel)
	if err != nil {
		return false
	}
	got := allMatchesNested(in.s.doc, m)
	return covers(got, ms, allowed)
}

// covers reports whether got holds all of group and nothing but allowed
// elements.
func covers(got, group []*nethtml.Node, allowed func(*nethtml.Node) bool) bool {
	matched := make(map[*nethtml.Node]bool, len(got))
	for _, e := range got {
		if !allowed(e) {
			return false
		}
		matched[e] = true
	}
	for _, e := range group {
		if !matched[e] {
			return false
		}
	}
	return true
}

// groupSelector returns a selector matching all of group and nothing but
// allowed elements, with what it matches: a shape of the group alone,
// else with its parent's, grandparent's or nearest id's descriptor
// before it, else with the position of the group's common parent. ok is
// false when only the elements' own paths would do.
func (in *inferrer) groupSelector(group []*nethtml.Node, allowed func(*nethtml.Node) bool) (string, []*nethtml.Node, bool) {
	bases := shapes(group)
	var cands []string
	cands = append(cands, bases...)
	p := commonDesc(group, 1)
	gp := commonDesc(group, 2)
	id := commonIDAncestor(group)
	var parentPath string
	if parent := group[0].Parent; parent != nil && !isPageRoot(parent) {
		same := true
		for _, e := range group {
			same = same && e.Parent == parent
		}
		if same {
			parentPath = nthPath(parent)
		}
	}
	for _, b := range bases {
		if p != "" {
			cands = append(cands, p+" > "+b)
			if gp != "" {
				cands = append(cands, gp+" > "+p+" > "+b)
			}
		}
		if id != "" {
			cands = append(cands, "#"+id+" "+b)
			if p != "" {
				cands = append(cands, "#"+id+" "+p+" > "+b)
			}
		}
		if parentPath != "" {
			cands = append(cands, parentPath+" > "+b)
		}
	}
	for _, c := range cands {
		m, err := cascadia.Compile(c)
		if err != nil {
			continue
		}
		if got := allMatchesNested(in.s.doc, m); covers(got, group, allowed) {
			return c, got, true
		}
	}
	return "", nil, false
}

// commonDesc returns the descriptor shared by the level-th ancestors of
// all of group, with the ancestor's id when it has one, or "".
func commonDesc(group []*nethtml.Node, level int) string {
	d := ""
	for i, e := range group {
		a := e
		for range level {
			if a = a.Parent; a == nil || isPageRoot(a) {
				return ""
			}
		}
		ad := describe(a)
		if id := usableID(a); id != "" {
			ad = a.Data + "#" + id
		}
		if i == 0 {
			d = ad
		} else if ad != d {
			return ""
		}
	}
	return d
}

// commonIDAncestor returns the id of the nearest ancestor with an id
// shared by all of group, or "".
func commonIDAncestor(group []*nethtml.Node) string {
	id := ""
	for i, e := range group {
		found := ""
		for a := e.Parent; a != nil && !isPageRoot(a); a = a.Parent {
			if found = usableID(a); found != "" {
				break
			}
		}
		if found == "" || (i > 0 && found != id) {
			return ""
		}
		id = found
	}
	return id
}

// nthPath returns a selector for e alone: its position among the siblings
// of its tag at every level up to the nearest ancestor with an id, or the
// body.
func nthPath(e *nethtml.Node) string {
	var parts []string
	for a := e; a != nil && !isPageRoot(a); a = a.Parent {
		if a != e {
			if id := usableID(a); id != "" {
				parts = append(parts, "#"+id)
				break
			}
		}
		k := 1
		for s := a.PrevSibling; s != nil; s = s.PrevSibling {
			if s.Type == nethtml.ElementNode && s.Data == a.Data {
				k++
			}
		}
		parts = append(parts, a.Data+":nth-of-type("+strconv.Itoa(k)+")")
		if a.Parent != nil && a.Parent.DataAtom == atom.Body {
			parts = append(parts, "body")
			break
		}
	}
	slices.Reverse(parts)
	return strings.Join(parts, " > ")
}

// guessFields returns r with the fields it leaves empty (title, link,
// date, summary, image) guessed as listing inference guesses them, from
// the elements r.Each matches: the page's article links are collected as
// for inference, and rules derives the fields over those elements that
// link to an article. A field inference does not find stays empty, and
// Scrape's defaults apply to it. r.Each must compile.
func (s *scraper) guessFields(r feed.ItemRules) feed.ItemRules {
	if r.Title != "" && r.Link != "" && r.Date != "" && r.Summary != "" && r.Image != "" {
		return r
	}
	each, err := s.n.compileSelector(strings.TrimSpace(r.Each))
	if err != nil {
		return r
	}
	in := s.newInferrer()
	var ms []*nethtml.Node
	for _, m := range allMatchesNested(s.doc, each) {
		if inf := in.info[m]; inf != nil && inf.headline != "" {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return r
	}
	guessed, _ := in.rules(ms)
	for _, f := range []struct {
		dst   *string
		guess string
	}{
		{&r.Title, guessed.Title}, {&r.Link, guessed.Link}, {&r.Date, guessed.Date},
		{&r.Summary, guessed.Summary}, {&r.Image, guessed.Image},
	} {
		if strings.TrimSpace(*f.dst) == "" {
			*f.dst = f.guess
		}
	}
	return r
}
