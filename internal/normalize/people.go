package normalize

import (
	"net/mail"
	"regexp"
	"strings"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	gjson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedmill/feedmill/internal/feed"
)

// authors returns the item's authors, cleaned and without duplicates.
//
// RSS: <author> ("email (Name)" and its variants), else every dc:creator,
// else itunes:author, else what gofeed found (an embedded atom:author).
// Atom and JSON Feed: the item's authors with their URIs, else the feed's,
// which both formats define as the authors of every item that names none.
func (b *itemBuilder) authors(gi *gofeed.Item, rssItem *rss.Item, entry *atom.Entry, jsonItem *gjson.Item) []feed.Person {
	var people []feed.Person
	switch {
	case rssItem != nil:
		var texts []string
		switch {
		case strings.TrimSpace(rssItem.Author) != "":
			texts = []string{rssItem.Author}
		case rssItem.DublinCoreExt != nil && len(rssItem.DublinCoreExt.Creator) > 0:
			texts = rssItem.DublinCoreExt.Creator
		case rssItem.ITunesExt != nil && strings.TrimSpace(rssItem.ITunesExt.Author) != "":
			texts = []string{rssItem.ITunesExt.Author}
		}
		for _, t := range texts {
			people = append(people, parsePerson(t))
		}
		if len(texts) == 0 {
			for _, p := range gi.Authors {
				if p != nil {
					people = append(people, feed.Person{Name: p.Name, Email: p.Email})
				}
			}
		}
	case entry != nil:
		list := entry.Authors
		if f, ok := b.orig.(*atom.Feed); ok && len(list) == 0 {
			list = f.Authors
		}
		for _, p := range list {
			if p != nil {
				people = append(people, feed.Person{Name: p.Name, Email: p.Email, URI: p.URI})
			}
		}
	case jsonItem != nil:
		list := jsonAuthors(jsonItem.Authors, jsonItem.Author)
		if f, ok := b.orig.(*gjson.Feed); ok && len(list) == 0 {
			list = jsonAuthors(f.Authors, f.Author)
		}
		for _, a := range list {
			people = append(people, feed.Person{Name: a.Name, URI: a.URL})
		}
	}
	return b.cleanPeople(people)
}

// jsonAuthors returns the JSON Feed 1.1 authors, else the 1.0 author.
func jsonAuthors(authors []*gjson.Author, author *gjson.Author) []*gjson.Author {
	var out []*gjson.Author
	for _, a := range authors {
		if a != nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 && author != nil {
		out = append(out, author)
	}
	return out
}

// cleanPeople makes names plain text, keeps only plausible email addresses
// and absolute http(s) URIs, and drops empty and repeated people.
func (b *itemBuilder) cleanPeople(in []feed.Person) []feed.Person {
	var out []feed.Person
	seen := make(map[feed.Person]bool)
	for _, p := range in {
		p.Name = cleanText(p.Name)
		p.Email = cleanEmail(p.Email)
		p.URI = resolveURL(b.base, nil, p.URI, false)
		if p == (feed.Person{}) || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

var (
	// "jane@example.com (Jane Doe)", the form RSS 2.0 asks for.
	emailThenName = regexp.MustCompile(`^(\S+@\S+)\s*\((.*)\)$`)
	// "Jane Doe (jane@example.com)".
	nameThenEmail = regexp.MustCompile(`^(.*?)\s*\((\S+@[^\s()]+)\)$`)
)

// parsePerson splits a free-form author text: "email (Name)", "Name
// (email)", "Name <email>", a bare address or a bare name. cleanText leaves
// "<jane@example.com>" alone: only tags of HTML elements are stripped.
func parsePerson(text string) feed.Person {
	text = cleanText(text)
	if m := emailThenName.FindStringSubmatch(text); m != nil {
		return feed.Person{Name: m[2], Email: m[1]}
	}
	if m := nameThenEmail.FindStringSubmatch(text); m != nil {
		return feed.Person{Name: m[1], Email: m[2]}
	}
	if strings.ContainsRune(text, '@') {
		if a, err := mail.ParseAddress(text); err == nil {
			return feed.Person{Name: a.Name, Email: a.Address}
		}
		if cleanEmail(text) != "" {
			return feed.Person{Email: text}
		}
	}
	return feed.Person{Name: text}
}

// cleanEmail returns s when it looks like an email address (one "@" with
// something on both sides, no spaces or brackets), else "".
func cleanEmail(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "mailto:")
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 || strings.ContainsAny(s, " \t\r\n<>()[],;:\"") {
		return ""
	}
	return s
}
