package refresh

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestOnePageTwoItemsIsOneWitness refreshes a full-text source whose feed
// lists one article twice, under two ids and two links that differ only by
// their tracking parameters and fragment, beside one other article. The page is fetched
// for each item, but it is one page: its paragraphs are in one article of
// two, not in two of three, and must not be learned as furniture.
func TestOnePageTwoItemsIsOneWitness(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /feed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<rss version="2.0"><channel><title>News</title><link>`+srv.URL+`/</link><description>d</description>`)
		for i, it := range []struct{ id, path, summary string }{
			{"story-1", "/a/1?utm_source=rss", "Summary of story 1."},
			{"story-1-shared", "/a/1?utm_source=social&utm_medium=share#comments", "Shared: the story everyone reads."},
			{"story-2", "/a/2?utm_source=rss", "Summary of story 2."},
		} {
			fmt.Fprintf(w, `<item><title>%s</title><link>%s%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
				it.id, srv.URL, strings.ReplaceAll(it.path, "&", "&amp;"), it.id, time.Date(2025, 6, 1, 10-i, 0, 0, 0, time.UTC).Format(time.RFC1123Z), it.summary)
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
	var fetches atomic.Int64
	mux.HandleFunc("GET /a/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// A live page differs a little from one fetch to the next (here
		// a reader count), so that an item is never all furniture, which
		// Clean would leave alone.
		fmt.Fprintf(w, `<html><head><title>Story %d</title></head><body>
<nav><a href="/">Home</a></nav>
<article><h1>Story %d</h1><p>%s</p><p>Read by %d people so far.</p></article><footer>© News</footer></body></html>`,
			n, n, strings.Join(storyParagraphs(n), "</p><p>"), 1000+fetches.Add(1))
	})

	src := feed.Source{Name: "news", URL: srv.URL + "/feed", Schedule: "@hourly", FullText: true}
	r, fx := newRefresher(t, []feed.Source{src}, Options{})
	if res := r.RefreshOne(t.Context(), src); res.Err != nil || res.New != 3 {
		t.Fatalf("refresh: %+v, want 3 new items", res)
	}
	for _, id := range []string{"story-1", "story-1-shared"} {
		it := storedItem(t, fx, "news", id)
		for _, p := range storyParagraphs(1) {
			if !strings.Contains(it.Content, p) {
				t.Errorf("%s lost a story paragraph as furniture: %q\n%s", id, p, it.Content)
			}
		}
	}
	if st, _ := fx.store.State(t.Context(), "news"); st.Furniture != "" {
		t.Errorf("furniture learned from two pages: %q", st.Furniture)
	}
}
