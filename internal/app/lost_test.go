package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// undatedSource serves an RSS feed of n items without any date, in the
// order "Note 0" (first, the newest by feed order) to "Note n-1".
func undatedSource(t *testing.T, n int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<rss version="2.0"><channel><title>Notes</title><link>https://notes.example/</link><description>d</description>`)
		for i := range n {
			fmt.Fprintf(w, `<item><title>Note %d</title><link>https://notes.example/%d</link><guid>https://notes.example/%d</guid><description>Note %d.</description></item>`, i, i, i, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestUndatedItemsObeyBackfill: a new source whose 20 items carry no date
// at all publishes only `backfill` of them, the first ones of its feed, in
// feed order; the rest stay reachable through the archive.
func TestUndatedItemsObeyBackfill(t *testing.T) {
	yaml := fmt.Sprintf(`server:
  listen: 127.0.0.1:8080
  base_url: http://127.0.0.1:8080
storage:
  dsn: feedmill.db
sources:
  - name: notes
    url: %s/feed.xml
feeds:
  - name: all
    sources: ["*"]
    backfill: 3
`, undatedSource(t, 20).URL)
	p := pipelineFor(t, yaml)
	for _, res := range p.refresher.RefreshAll(t.Context(), false) {
		if res.Err != nil {
			t.Fatalf("refresh %s: %v", res.Source, res.Err)
		}
	}
	var got []string
	for _, it := range publishedJSON(t, p, "all").Items {
		got = append(got, it.Title)
	}
	if want := []string{"Note 0", "Note 1", "Note 2"}; !slices.Equal(got, want) {
		t.Errorf("published %q, want the first 3 of the feed, in feed order: %q", got, want)
	}
}
