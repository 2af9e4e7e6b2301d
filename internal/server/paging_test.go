package server

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pagedServer serves the status of n sources, src000 to src(n-1), every
// seventh failing.
func pagedServer(t *testing.T, n int) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(pagedHandler(n))
	t.Cleanup(ts.Close)
	return ts
}

// pagedHandler is pagedServer's handler.
func pagedHandler(n int) *Server {
	now := time.Now().UTC()
	var sources []feed.Source
	var states []feed.SourceState
	for i := range n {
		name := fmt.Sprintf("src%03d", i)
		sources = append(sources, feed.Source{Name: name, URL: "https://" + name + ".example/feed"})
		st := feed.SourceState{Name: name, URL: sources[i].URL, LastFetch: now.Add(-time.Hour), LastSuccess: now.Add(-time.Hour), LastStatus: 200}
		if i%7 == 0 {
			st.LastError, st.LastStatus, st.Failures = "503 Service Unavailable", 503, 1
		}
		states = append(states, st)
	}
	return New(Options{BaseURL: "http://feeds.example", Version: "test", Sources: sources}, fixedSnapshots{}, fixedStates{states: states})
}

// BenchmarkStatusPage serves a page of the status of 10,000 sources from
// states in memory: what the server adds to reading the states
// (bench/scale measures it over a real store).
func BenchmarkStatusPage(b *testing.B) {
	srv := pagedHandler(10_000)
	for _, target := range []string{"/", "/?sort=name&order=desc&page=7", "/status.json?page=1"} {
		b.Run(target, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
				if rec.Code != 200 {
					b.Fatalf("GET %s: %d", target, rec.Code)
				}
			}
		})
	}
}

func TestStatusPagePaginated(t *testing.T) {
	ts := pagedServer(t, 250)
	tests := []struct {
		name, query       string
		first, last       string // the first and last row shown
		rows              int
		prev, next, paged bool
	}{
		{"first page by default", "", "src000", "src099", 100, false, true, true},
		{"second page", "?page=2", "src100", "src199", 100, true, true, true},
		{"last page, short", "?page=3", "src200", "src249", 50, true, false, true},
		{"past the last shows the last", "?page=99", "src200", "src249", 50, true, false, true},
		{"bad page is the first", "?page=-2", "src000", "src099", 100, false, true, true},
		{"sorted before cut", "?sort=name&order=desc&page=3", "src049", "src000", 50, true, false, true},
		{"filter fits one page", "?status=failing", "src000", "src245", 36, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+"/"+tt.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %s", resp.Status)
			}
			names, _ := tableRows(t, body)
			if len(names) != tt.rows || names[0] != tt.first || names[len(names)-1] != tt.last {
				t.Errorf("%d rows %s…%s, want %d rows %s…%s", len(names), names[0], names[len(names)-1], tt.rows, tt.first, tt.last)
			}
			doc := parseHTML(t, body)
			links := map[string]string{}
			for _, a := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.A && hasAttr(n, "rel") }) {
				links[nodeAttr(a, "rel")] = nodeAttr(a, "href")
			}
			if _, ok := links["prev"]; ok != tt.prev {
				t.Errorf("previous link %q, want one: %v", links["prev"], tt.prev)
			}
			if _, ok := links["next"]; ok != tt.next {
				t.Errorf("next link %q, want one: %v", links["next"], tt.next)
			}
			if strings.Contains(tt.query, "sort=") {
				for rel, href := range links {
					if !strings.Contains(href, "sort=name") || !strings.Contains(href, "order=desc") {
						t.Errorf("%s link %q drops the sort", rel, href)
					}
				}
			}
			table := findAll(doc, func(n *html.Node) bool { return nodeAttr(n, "id") == "sources-table" })[0]
			if got := nodeAttr(table, "data-paged") == "true"; got != tt.paged {
				t.Errorf("data-paged %q, want %v", nodeAttr(table, "data-paged"), tt.paged)
			}
			if tt.paged && !strings.Contains(nodeAttr(table, "data-status-url"), "page=") {
				t.Errorf("the script would refresh %q, not the page shown", nodeAttr(table, "data-status-url"))
			}
		})
	}
}

func TestStatusJSONPaginated(t *testing.T) {
	ts := pagedServer(t, 250)
	tests := []struct {
		query       string
		rows        int
		first       string
		page, pages int // 0: no page object
	}{
		{"", 250, "src000", 0, 0},
		{"?page=1", 100, "src000", 1, 3},
		{"?page=3", 50, "src200", 3, 3},
		{"?page=2&sort=name&order=desc", 100, "src149", 2, 3},
		{"?page=1&status=failing", 36, "src000", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := do(t, "GET", ts.URL+"/status.json"+tt.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %s", resp.Status)
			}
			var doc struct {
				Sources []struct{ Name string }
				Counts  struct{ All int }
				Page    *struct{ Number, Pages, Size, Total int }
			}
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Sources) != tt.rows || doc.Sources[0].Name != tt.first {
				t.Errorf("%d sources from %s, want %d from %s", len(doc.Sources), doc.Sources[0].Name, tt.rows, tt.first)
			}
			if doc.Counts.All != 250 {
				t.Errorf("counts.all %d, want 250 whatever the page", doc.Counts.All)
			}
			switch {
			case tt.page == 0 && doc.Page != nil:
				t.Errorf("page %+v without ?page=", *doc.Page)
			case tt.page != 0 && (doc.Page == nil || doc.Page.Number != tt.page || doc.Page.Pages != tt.pages || doc.Page.Size != statusPageSize):
				t.Errorf("page %+v, want number %d of %d", doc.Page, tt.page, tt.pages)
			}
		})
	}
}
