package refresh

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// newsSite is an httptest news site: a feed of summaries and one page per
// article, each page wrapping its story in the site's furniture.
type newsSite struct {
	*httptest.Server
	mu       sync.Mutex
	articles []int // article numbers in the feed, newest first
	full     bool  // the feed carries whole articles
	appeal   string
	pages    atomic.Int64
}

func storyParagraphs(n int) []string {
	var ps []string
	for i := 1; i <= 3; i++ {
		ps = append(ps, fmt.Sprintf("Story %d, paragraph %d: the council met on Tuesday and decided, after a long debate about the harbour, the ferry and the school bus, that the plan for the %d new homes would go ahead next spring, with a review in the autumn.", n, i, n*10+i))
	}
	return ps
}

func newNewsSite(t *testing.T, articles ...int) *newsSite {
	t.Helper()
	s := &newsSite{articles: articles, appeal: "Dear readers, please support our journalism with a monthly gift."}
	mux := http.NewServeMux()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	mux.HandleFunc("GET /feed", func(rw http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w := new(bytes.Buffer)
		defer func() {
			etag := fmt.Sprintf(`"%08x"`, crc32.ChecksumIEEE(w.Bytes()))
			if r.Header.Get("If-None-Match") == etag {
				rw.WriteHeader(http.StatusNotModified)
				return
			}
			rw.Header().Set("ETag", etag)
			rw.Header().Set("Content-Type", "application/rss+xml")
			rw.Write(w.Bytes())
		}()
		fmt.Fprintf(w, `<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>News</title><link>%s/</link><description>d</description>`, s.URL)
		for _, n := range s.articles {
			content := ""
			if s.full {
				content = "<content:encoded><![CDATA[<p>" + strings.Join(storyParagraphs(n), "</p><p>") + strings.Repeat(" More of the story.", 60) + "</p>]]></content:encoded>"
			}
			fmt.Fprintf(w, `<item><title>Story %d</title><link>%s/a/%d?utm_source=rss</link><guid isPermaLink="false">story-%d</guid><pubDate>%s</pubDate><description>Summary of story %d.</description>%s</item>`,
				n, s.URL, n, n, time.Date(2025, 6, 1, n, 0, 0, 0, time.UTC).Format(time.RFC1123Z), n, content)
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
	mux.HandleFunc("GET /a/{n}", func(w http.ResponseWriter, r *http.Request) {
		s.pages.Add(1)
		s.mu.Lock()
		appeal := s.appeal
		s.mu.Unlock()
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><head><title>Story %d</title><link rel="canonical" href="https://news.example/a/%d"></head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>Story %d</h1><p>%s</p>
<div class="appeal"><p>%s</p><p><a href="/support">Support us</a></p></div>
</article><footer>© News</footer></body></html>`, n, n, n, strings.Join(storyParagraphs(n), "</p><p>"), appeal)
	})
	return s
}

func (s *newsSite) set(f func(*newsSite)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func storedItem(t *testing.T, fx *fixture, source, id string) feed.Item {
	t.Helper()
	it, ok, err := fx.store.Item(context.Background(), feed.Key{Source: source, ID: id})
	if err != nil || !ok {
		t.Fatalf("stored item %s/%s: ok %v, %v", source, id, ok, err)
	}
	return it
}

func TestFullTextFetchesOncePerItem(t *testing.T) {
	s := newNewsSite(t, 3, 2, 1)
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	ctx := t.Context()

	if res := r.RefreshOne(ctx, src); res.Err != nil || res.New != 3 {
		t.Fatalf("first refresh: %+v", res)
	}
	if n := s.pages.Load(); n != 3 {
		t.Errorf("%d pages fetched, want 3", n)
	}
	it := storedItem(t, fx, "news", "story-2")
	for _, p := range storyParagraphs(2) {
		if !strings.Contains(it.Content, p) {
			t.Errorf("stored content lacks %q:\n%s", p, it.Content)
		}
	}
	if strings.Contains(it.Content, "Dear readers") || !strings.Contains(it.RawContent, "Dear readers") {
		t.Errorf("the appeal, seen in 3 of 3 articles, is not learned as furniture:\ncontent %s\nraw %s", it.Content, it.RawContent)
	}
	if it.Canonical != "https://news.example/a/2" || it.Summary != "<p>Summary of story 2.</p>" && it.Summary != "Summary of story 2." {
		t.Errorf("canonical %q, summary %q: want the page's rel=canonical and the feed's own summary", it.Canonical, it.Summary)
	}

	// A new article: only its page is fetched; the others come from the
	// cache (the feed changed, so this is not a 304).
	s.set(func(s *newsSite) { s.articles = []int{4, 3, 2, 1} })
	if res := r.RefreshOne(ctx, src); res.Err != nil || res.New != 1 || res.Updated != 0 {
		t.Fatalf("refresh with a new article: %+v", res)
	}
	if n := s.pages.Load(); n != 4 {
		t.Errorf("%d pages fetched after one new article, want 4", n)
	}
}

func TestFullTextBudget(t *testing.T) {
	s := newNewsSite(t, 5, 4, 3, 2, 1)
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, _ := newRefresher(t, []feed.Source{src}, Options{FullTextLimit: 2})
	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 5 {
		t.Fatalf("first refresh: %+v", res)
	}
	if n := s.pages.Load(); n != 2 {
		t.Errorf("%d pages fetched with a limit of 2", n)
	}
	// The rest get their turn on later refreshes.
	s.set(func(s *newsSite) { s.articles = append([]int{6}, s.articles...) })
	r.RefreshOne(t.Context(), src)
	if n := s.pages.Load(); n != 4 {
		t.Errorf("%d pages fetched after the second refresh, want 4", n)
	}
}

// TestFullTextLimitZeroFetchesNone: full_text_limit: 0 fetches no article
// page, as documented, rather than falling back to the default.
func TestFullTextLimitZeroFetchesNone(t *testing.T) {
	s := newNewsSite(t, 3, 2, 1)
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	fixture, fx := newRefresher(t, nil, Options{})
	r, err := New([]feed.Source{src}, fixture.fetch, fixture.parse, fx.store, Options{Now: fx.clock.Now, FullTextLimit: 0})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 3 {
		t.Fatalf("refresh: %+v", res)
	}
	if n := s.pages.Load(); n != 0 {
		t.Errorf("%d pages fetched with a limit of 0, want none", n)
	}
}

func TestFullTextSkippedForFullFeeds(t *testing.T) {
	s := newNewsSite(t, 3, 2, 1)
	s.full = true
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, _ := newRefresher(t, []feed.Source{src}, Options{})
	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 3 {
		t.Fatalf("refresh: %+v", res)
	}
	if n := s.pages.Load(); n != 0 {
		t.Errorf("%d pages fetched for a feed that carries whole articles, want 0", n)
	}
}

func TestChangedRulesReextract(t *testing.T) {
	s := newNewsSite(t, 3, 2, 1)
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	ctx := t.Context()
	r.RefreshOne(ctx, src)
	fx.clock.Advance(2 * time.Hour)
	if res := r.RefreshOne(ctx, src); !res.NotModified {
		t.Fatalf("second refresh: %+v, want 304 (the site answers validators)", res)
	}

	// The user adds a rule; the feed itself has not changed.
	ruled := src
	ruled.Content = feed.ContentRules{Select: "article", Remove: []string{".appeal", "h1"}}
	r2, err := New([]feed.Source{ruled}, r.fetch, r.parse, fx.store, Options{Now: fx.clock.Now, FullTextLimit: feed.DefaultFullTextLimit})
	if err != nil {
		t.Fatal(err)
	}
	fx.clock.Advance(2 * time.Hour)
	res := r2.RefreshOne(ctx, ruled)
	if res.Err != nil || res.NotModified {
		t.Fatalf("refresh after a rules change: %+v, want a full fetch", res)
	}
	if n := s.pages.Load(); n != 6 {
		t.Errorf("%d pages fetched, want 6: every page extracted again under the new rules", n)
	}
	if it := storedItem(t, fx, "news", "story-1"); strings.Contains(it.RawContent, "Dear readers") {
		t.Errorf("the rule did not apply: %s", it.RawContent)
	}
	fx.clock.Advance(2 * time.Hour)
	if res := r2.RefreshOne(ctx, ruled); !res.NotModified || s.pages.Load() != 6 {
		t.Errorf("next refresh: %+v and %d pages fetched, want a 304 again and no page fetched", res, s.pages.Load())
	}
}

func TestFurnitureChangeCleansStoredItems(t *testing.T) {
	// Two articles: too few to learn from; the appeal stays.
	s := newNewsSite(t, 2, 1)
	src := feed.Source{Name: "news", URL: s.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	ctx := t.Context()
	r.RefreshOne(ctx, src)
	before := storedItem(t, fx, "news", "story-1")
	if !strings.Contains(before.Content, "Dear readers") {
		t.Fatalf("with two articles the appeal was removed already: %s", before.Content)
	}

	// A third article: the appeal is now furniture, and the stored two are
	// cleaned again; their update time moves because their text did.
	s.set(func(s *newsSite) { s.articles = []int{3, 2, 1} })
	fx.clock.Advance(time.Hour)
	res := r.RefreshOne(ctx, src)
	if res.Err != nil || res.New != 1 || res.Updated != 2 {
		t.Fatalf("refresh with a third article: %+v, want 1 new and 2 cleaned", res)
	}
	after := storedItem(t, fx, "news", "story-1")
	if strings.Contains(after.Content, "Dear readers") || !after.Updated.After(before.Updated) {
		t.Errorf("stored item not cleaned again: updated %v -> %v\n%s", before.Updated, after.Updated, after.Content)
	}
	for _, p := range storyParagraphs(1) {
		if !strings.Contains(after.Content, p) {
			t.Errorf("cleaning lost a story paragraph %q", p)
		}
	}
	st, _ := fx.store.State(ctx, "news")
	if st.Furniture == "" {
		t.Error("the furniture key was not recorded")
	}

	// Nothing new: nothing is cleaned or updated again.
	s.set(func(s *newsSite) { s.articles = []int{3, 2, 1} })
	fx.clock.Advance(time.Hour)
	if res := r.RefreshOne(ctx, src); res.Err != nil || res.Changed() {
		t.Errorf("refresh without news: %+v, want no change", res)
	}
}
