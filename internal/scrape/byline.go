package scrape

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/normalize"
)

// A byline is the line at the start of a story that credits and dates it:
// "By Sam Okafor", "Posted on 4 Dec 2026 by Ines Vogel", "— Staff
// reporter", <p class="byline">, <a rel="author">. Extract takes it out of
// the article's content (so that a summary derived from the content does
// not start with it) and uses it to credit the article when the page's
// metadata names nobody, and to date it when nothing better does.
type byline struct {
	names []string  // plain text, in the order given; may be empty
	date  time.Time // UTC; zero when the byline gives none
}

// Bounds of a byline: longer text is a paragraph of the story.
const (
	maxBylineRunes = 160
	maxBylineWords = 24
	// bylineBlocks is how many leading blocks of a story are looked at.
	bylineBlocks = 3
	// storyText is the length of text from which a block is the story's
	// body, after which no byline is looked for.
	storyText = 200
)

// takeByline looks for a byline among the first blocks of the article
// under root (headings, pictures and empty blocks skipped, wrappers
// entered) and removes the block holding it. ok is false, and root
// unchanged, when the story does not start with one: a sentence
// mentioning "by" in the middle of a story is never one.
func takeByline(root *nethtml.Node) (b byline, ok bool) {
	seen := 0
	var found *nethtml.Node
	var walk func(n *nethtml.Node) bool // true: stop looking
	walk = func(n *nethtml.Node) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case nethtml.TextNode:
				if strings.TrimFunc(c.Data, normalize.IsBlank) == "" {
					continue
				}
				// Loose text: a story's first words without a block.
				if got, ok := readByline(squash(c.Data), false); ok {
					b, found = got, c
				}
				return true
			case nethtml.ElementNode:
			default:
				continue
			}
			switch c.DataAtom {
			case atom.H1, atom.H2, atom.Figure, atom.Img, atom.Picture, atom.Hr, atom.Br, atom.Script, atom.Style:
				continue
			}
			text := squash(normalize.BlockText(c, unseen))
			if text == "" {
				continue
			}
			if isWrapper(c) && utf8.RuneCountInString(text) > maxBylineRunes {
				// A wrapper around the story: its first blocks are the
				// story's.
				return walk(c)
			}
			if got, ok := readByline(text, bylineMarked(c)); ok {
				b, found = got, c
				return true
			}
			seen++
			if seen >= bylineBlocks || utf8.RuneCountInString(text) >= storyText {
				return true
			}
		}
		return false
	}
	walk(root)
	if found == nil {
		return byline{}, false
	}
	found.Parent.RemoveChild(found)
	return b, true
}

// isWrapper reports whether e is a container a story's blocks sit in.
func isWrapper(e *nethtml.Node) bool {
	switch e.DataAtom {
	case atom.Div, atom.Section, atom.Article, atom.Main, atom.Header:
		return true
	}
	return false
}

// bylineMarked reports whether e, or an element inside it, is marked as a
// byline or an author by the page: rel=author, itemprop=author, a class
// or id saying byline, author, dateline, post meta.
func bylineMarked(e *nethtml.Node) bool {
	if e.Type != nethtml.ElementNode {
		return false
	}
	if strings.Contains(strings.ToLower(normalize.Attr(e, "rel")), "author") ||
		strings.Contains(strings.ToLower(normalize.Attr(e, "itemprop")), "author") ||
		hasWord(e, bylineWords) {
		return true
	}
	for c := e.FirstChild; c != nil; c = c.NextSibling {
		if bylineMarked(c) {
			return true
		}
	}
	return false
}

var (
	// byWord finds the "by" that introduces the names.
	byWord = regexp.MustCompile(`(?i)(?:^|[\s:|·•])by\b[\s:]*`)
	// bylineLead is what may come before "by": "Posted", "Published on
	// <date>", "Words", "Story and photos".
	bylineLead = regexp.MustCompile(`(?i)\b(?:posted|published|written|updated|words|story|text|report(?:ed|ing)?|photos?|and|on|at)\b`)
	// bylineDash is a byline given as a dash and a name: "— Staff
	// reporter".
	bylineDash = regexp.MustCompile(`^[—–-]{1,2}\s*(\S.*)$`)
	// bylineTail separates the names from what follows them: a role, a
	// date ("By Sam Okafor | 4 December 2026", "by Ines Vogel on 4 Dec").
	bylineTail = regexp.MustCompile(`(?i)\s*(?:[|·•]|\s[—–-]\s|\bon\b|\bupdated\b|\bpublished\b)\s*`)
	// nameSplit separates several names.
	nameSplit = regexp.MustCompile(`(?i)\s*(?:,|&|\band\b|\bund\b|\bet\b)\s*`)
)

// readByline reads text (a block's plain text) as a byline. marked says
// the page marks the block as one (its class, rel=author): then a bare
// list of names or a date alone is one too. Unmarked text must read as a
// byline as a whole: "By NAME[, NAME and NAME][ | DATE]", "Posted [on
// DATE] by NAME", "— NAME".
func readByline(text string, marked bool) (byline, bool) {
	if text == "" || utf8.RuneCountInString(text) > maxBylineRunes || len(strings.Fields(text)) > maxBylineWords {
		return byline{}, false
	}
	var b byline
	if m := byWord.FindStringIndex(text); m != nil {
		lead, rest := text[:m[0]], text[m[1]:]
		if !leadOK(lead, &b) {
			return byline{}, false
		}
		names, tail := rest, ""
		if t := bylineTail.FindStringIndex(rest); t != nil {
			names, tail = rest[:t[0]], rest[t[1]:]
		}
		b.names = readNames(names)
		if len(b.names) == 0 {
			return byline{}, false
		}
		if d := parseDate(tail, ""); !d.IsZero() && b.date.IsZero() {
			b.date = d
		}
		return b, true
	}
	if m := bylineDash.FindStringSubmatch(text); m != nil && len(strings.Fields(m[1])) <= 5 {
		if names := readNames(m[1]); len(names) > 0 {
			b.names = names
			return b, true
		}
		if role := strings.TrimRight(m[1], ".,;:"); isRole(role) {
			b.names = []string{role}
			return b, true
		}
		return byline{}, false
	}
	if !marked {
		return byline{}, false
	}
	// A marked block: "Sam Okafor", "Sam Okafor | 4 Dec 2026", "Posted
	// on 4 Dec 2026".
	names, tail := text, ""
	if t := bylineTail.FindStringIndex(text); t != nil {
		names, tail = text[:t[0]], text[t[1]:]
	}
	if d := parseWholeDate(text, ""); !d.IsZero() {
		b.date = d
		return b, true
	}
	b.names = readNames(names)
	if d := parseDate(tail, ""); !d.IsZero() {
		b.date = d
	}
	if len(b.names) == 0 {
		if d := parseDate(names, ""); !d.IsZero() && tail == "" {
			// "Posted 4 December 2026, 09:30"
			b.date = d
		}
	}
	return b, len(b.names) > 0 || !b.date.IsZero()
}

// leadOK reports whether lead, what comes before "by", is a byline's:
// nothing, or words like "Posted on" with perhaps a date, which it puts in
// b.
func leadOK(lead string, b *byline) bool {
	lead = strings.TrimSpace(lead)
	if lead == "" {
		return true
	}
	rest := strings.Trim(bylineLead.ReplaceAllString(lead, ""), " \t,:|·•—–-")
	if rest == "" {
		return true
	}
	if d := parseWholeDate(rest, ""); !d.IsZero() {
		b.date = d
		return true
	}
	return false
}

// notNames are capitalized words that start sentences, not names: "By
// Tuesday", "By March", "By Then".
var notNames = map[string]bool{
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true,
	"january": true, "february": true, "march": true, "april": true, "may": true, "june": true, "july": true,
	"august": true, "september": true, "october": true, "november": true, "december": true,
	"today": true, "tomorrow": true, "yesterday": true, "then": true, "now": true, "the": true, "a": true, "an": true,
	"this": true, "that": true, "these": true, "those": true, "noon": true, "midnight": true, "night": true,
	"far": true, "all": true, "means": true, "law": true, "contrast": true, "comparison": true, "default": true,
}

// nameParticles may be written in lower case inside a name.
var nameParticles = map[string]bool{
	"van": true, "von": true, "de": true, "da": true, "del": true, "della": true, "der": true, "den": true,
	"di": true, "du": true, "la": true, "le": true, "bin": true, "bint": true, "al": true, "el": true,
	"ter": true, "ten": true, "dos": true, "das": true, "y": true,
}

// roleWords make a credit a role rather than a person: "Political
// Editor", "Staff reporter".
var roleWords = map[string]bool{
	"editor": true, "reporter": true, "correspondent": true, "staff": true, "writer": true, "columnist": true,
	"contributor": true, "journalist": true, "photographer": true, "producer": true, "desk": true,
	"team": true, "newsroom": true, "agencies": true, "agency": true, "wires": true,
}

// isRole reports whether s is a role ("Staff reporter") rather than a name.
func isRole(s string) bool {
	for _, w := range strings.Fields(strings.ToLower(s)) {
		if roleWords[strings.Trim(w, ".,")] {
			return len(strings.Fields(s)) <= 4
		}
	}
	return false
}

// readNames splits s into the names it lists ("Sam Okafor and Ines
// Vogel", "SAM OKAFOR, INES VOGEL"), or nil when any part is not a name.
// A role beside names ("Sam Okafor, Political Editor") is dropped; a role
// alone ("Staff reporter") stands for the name. Names in capitals are
// written as names.
func readNames(s string) []string {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ".,;:"))
	if s == "" {
		return nil
	}
	var names, roles []string
	for part := range strings.SplitSeq(nameSplit.ReplaceAllString(s, "\x00"), "\x00") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case isRole(part):
			roles = append(roles, part)
		case isName(part):
			names = append(names, nameCase(part))
		default:
			return nil
		}
	}
	if len(names) == 0 && len(roles) == 1 {
		return roles
	}
	return names
}

// isName reports whether s looks like a person's name: one to five words,
// each capitalized (or a particle like "van", or an initial), no digits,
// not starting with a word that starts sentences ("By Tuesday").
func isName(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 5 || notNames[strings.ToLower(strings.Trim(words[0], ".,"))] {
		return false
	}
	capitals := 0
	for _, w := range words {
		first, _ := utf8.DecodeRuneInString(w)
		switch {
		case strings.ContainsFunc(w, unicode.IsDigit):
			return false
		case unicode.IsUpper(first):
			capitals++
		case nameParticles[strings.ToLower(w)]:
		default:
			return false
		}
		if strings.ContainsFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && r != '.' && r != '\'' && r != '’' && r != '-'
		}) {
			return false
		}
	}
	return capitals > 0
}

// nameCase writes a name given in capitals ("SAM OKAFOR") as a name ("Sam
// Okafor"); other names are left as given.
func nameCase(s string) string {
	if strings.ToUpper(s) != s || strings.ToLower(s) == s {
		return s
	}
	words := strings.Fields(s)
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + strings.ToLower(w[size:])
	}
	return strings.Join(words, " ")
}
