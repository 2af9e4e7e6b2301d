package publish

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

func mustSourceSnapshot(t *testing.T, p *Publisher, name string, f Format) *Snapshot {
	t.Helper()
	s, err := p.SourceSnapshot(t.Context(), name, f)
	if err != nil {
		t.Fatalf("SourceSnapshot(%q, %s): %v", name, f, err)
	}
	return s
}

// TestSourceFeeds: every source is published by itself, its own items
// only, newest first, with its own self URL and no archive links.
func TestSourceFeeds(t *testing.T) {
	p := rebuilt(t, &memStore{})
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			s := mustSourceSnapshot(t, p, "alpha", f)
			testkit.Golden(t, "testdata/source-alpha."+f.String(), s.Body)
			if s.ContentType != f.ContentType() || s.ETag == "" || len(s.Gzip) == 0 {
				t.Errorf("snapshot headers: %q %q gzip %d bytes", s.ContentType, s.ETag, len(s.Gzip))
			}
			if !bytes.Contains(s.Body, []byte(SourceFeedURL(testBase, "alpha", f))) {
				t.Errorf("no self URL %s in the document", SourceFeedURL(testBase, "alpha", f))
			}
			if bytes.Contains(s.Body, []byte("archive")) || bytes.Contains(s.Body, []byte("/feeds/")) {
				t.Error("a source's own feed links to archive pages or to a combined feed")
			}
			var got []string
			for _, it := range s.Entries {
				if it.Source != "alpha" {
					t.Errorf("entry %s of source %s", it.ID, it.Source)
				}
				got = append(got, it.ID)
			}
			want := []string{"https://alpha.example.com/posts/1", "tag:alpha.example.com,2024:2", "tag:shared.example,2024:x"}
			if !slices.Equal(got, want) {
				t.Errorf("entries = %q, want %q", got, want)
			}
			feedcheck(t, f, s.Body)
		})
	}
	for _, name := range []string{"beta", "gamma"} {
		for _, f := range formats {
			feedcheck(t, f, mustSourceSnapshot(t, p, name, f).Body)
		}
	}
	for _, c := range []struct {
		name string
		f    Format
		why  string
	}{{"nope", Atom, "unknown source"}, {"alpha", numFormats, "unknown format"}, {"all", Atom, "a combined feed's name"}} {
		if _, err := p.SourceSnapshot(t.Context(), c.name, c.f); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", c.why, err)
		}
	}
}

// TestSourceFeedsKeptUnlessChanged: a Rebuild keeps a source's documents
// (same snapshots) unless its own items changed.
func TestSourceFeedsKeptUnlessChanged(t *testing.T) {
	st := &memStore{}
	p := rebuilt(t, st)
	before := map[string]*Snapshot{}
	for _, name := range []string{"alpha", "beta", "gamma"} {
		before[name] = mustSourceSnapshot(t, p, name, Atom)
	}
	items := testItems()
	for i := range items {
		if items[i].Source == "beta" {
			items[i].Title = "Beta, edited"
			break
		}
	}
	st.set(items)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, old := range before {
		s := mustSourceSnapshot(t, p, name, Atom)
		if changed := s != old; changed != (name == "beta") {
			t.Errorf("%s: snapshot replaced = %v", name, changed)
		}
	}
	if !bytes.Contains(mustSourceSnapshot(t, p, "beta", Atom).Body, []byte("Beta, edited")) {
		t.Error("beta's feed lacks the edit")
	}
}

// TestTopic: the WebSub topics are the current documents, combined and
// per source, in every format; nothing else.
func TestTopic(t *testing.T) {
	p := rebuilt(t, &memStore{})
	for _, f := range formats {
		if s, ok := p.Topic(t.Context(), FeedURL(testBase, "all", f)); !ok || s != mustSnapshot(t, p, "all", f) {
			t.Errorf("Topic(all.%s) = %v, %v", f, s, ok)
		}
		if s, ok := p.Topic(t.Context(), SourceFeedURL(testBase, "gamma", f)); !ok || s != mustSourceSnapshot(t, p, "gamma", f) {
			t.Errorf("Topic(sources/gamma.%s) = %v, %v", f, s, ok)
		}
	}
	for _, bad := range []string{
		SourceFeedURL(testBase, "nope", Atom),
		FeedURL(testBase, "alpha", Atom), // a source, not a combined feed
		SourcePageURL(testBase, "alpha"),
		ArchiveURL(testBase, "all", Atom, 1),
		"https://elsewhere.example/sources/alpha.atom",
	} {
		if _, ok := p.Topic(t.Context(), bad); ok {
			t.Errorf("Topic(%s) reported true", bad)
		}
		if p.IsTopic(bad) {
			t.Errorf("IsTopic(%s) reported true", bad)
		}
	}
}

// TestOPMLSourceTypes: an html or json source is listed with its own feed
// at feedmill (a reader cannot subscribe to a page), and with its type and
// public URL in feedmill's attributes; a feed source keeps its URL.
func TestOPMLSourceTypes(t *testing.T) {
	sources := []feed.Source{
		{Name: "paper", Type: feed.TypeHTML, URL: "https://paper.example/front?token=s3cret", Title: "The Paper", Categories: []string{"news"}},
		{Name: "api.v2", Type: feed.TypeJSON, URL: "https://api.example/v2/posts"},
		{Name: "blog", Type: feed.TypeFeed, URL: "https://blog.example/feed.xml"},
	}
	st := &memStore{items: []feed.Item{}, states: []feed.SourceState{}}
	p := New(Options{BaseURL: testBase}, nil, sources, st)
	if err := p.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	body := p.OPML().Body
	testkit.Golden(t, "testdata/source-types.opml", body)
	if bytes.Contains(body, []byte("s3cret")) {
		t.Error("a secret reached the OPML")
	}
	for _, want := range []string{
		`xmlUrl="` + SourceFeedURL(testBase, "paper", Atom) + `"`,
		`xmlUrl="` + SourceFeedURL(testBase, "api.v2", Atom) + `"`,
		`xmlUrl="https://blog.example/feed.xml"`,
		`feedmillType="html"`, `feedmillUrl="https://paper.example/front"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("OPML lacks %s", want)
		}
	}
}
