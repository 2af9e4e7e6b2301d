package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

// The status pages' fixture: three sources over a real SQLite store, in
// this config order (sorting by name changes it).
const (
	srcOK      = "zeta-ok"       // fetched twice, 4 recent items and 3 old ones
	srcFailing = "alpha-failing" // a success three days ago, then three failures
	srcNever   = "mid-never"     // not fetched yet
	failingErr = "fetch https://alpha.example/feed: 503 Service Unavailable"
)

type statusFixture struct {
	srv   *Server
	store *store.SQLite
	ts    *httptest.Server
	base  string
	now   time.Time
}

// fixtureOptions change the fixture's data: the error stored for the
// failing source, the title of the OK source's newest item.
type fixtureOptions struct {
	base      string // "" uses the test server's own URL
	lastError string
	itemTitle string
	// itemSummary, when set, makes the OK source's newest item untitled,
	// with this summary.
	itemSummary string
	// itemText and itemImage, when set, are the summary and the picture
	// of the OK source's second newest item ("Post 3").
	itemText, itemImage string
	wrap                func(*store.SQLite) states
	// noCount leaves the server's Run to the test (it runs it and waits
	// for its first count otherwise).
	noCount bool
}

// runServer runs srv's background work until the test ends.
func runServer(t testing.TB, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// newStatusFixture stores the three sources' states, fetch histories and
// items, publishes one feed "all" of them, and serves it all.
func newStatusFixture(t testing.TB, o fixtureOptions) *statusFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "feedmill.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	if o.lastError == "" {
		o.lastError = failingErr
	}
	if o.itemTitle == "" {
		o.itemTitle = "Post 4"
	}
	sources := []feed.Source{
		{Name: srcOK, URL: "https://zeta.example/feed.xml", Title: "Zeta Blog", Categories: []string{"tech"}},
		{Name: srcFailing, URL: "https://alpha.example/feed"},
		{Name: srcNever, URL: "https://mid.example/feed"},
	}

	var old, recent []feed.Item
	for i := 1; i <= 3; i++ {
		old = append(old, feed.Item{Source: srcOK, ID: fmt.Sprintf("old-%d", i), Title: fmt.Sprintf("Old post %d", i),
			Link: fmt.Sprintf("https://zeta.example/old/%d", i), Published: now.Add(-time.Duration(300-i) * time.Hour)})
	}
	for i := 1; i <= 4; i++ {
		title := fmt.Sprintf("Post %d", i)
		if i == 4 {
			title = o.itemTitle
		}
		recent = append(recent, feed.Item{Source: srcOK, ID: fmt.Sprintf("post-%d", i), Title: title,
			Link: fmt.Sprintf("https://zeta.example/posts/%d", i), Published: now.Add(-time.Duration(10-i) * time.Hour)})
	}
	if o.itemSummary != "" {
		recent[3].Title, recent[3].Summary = "", o.itemSummary
	}
	recent[2].Summary, recent[2].Image = o.itemText, o.itemImage
	if _, err := st.SaveItems(ctx, srcOK, old, 500, now.Add(-10*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveItems(ctx, srcOK, recent, 500, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	okState := feed.SourceState{Name: srcOK, URL: sources[0].URL, FeedTitle: "Zeta's own title", FeedLink: "https://zeta.example/",
		LastFetch: now.Add(-40 * time.Minute), LastSuccess: now.Add(-40 * time.Minute), FirstSuccess: now.Add(-10 * 24 * time.Hour),
		NextFetch: now.Add(-10 * time.Minute), LastStatus: 200, LastDuration: 120 * time.Millisecond, LastNew: 4}
	saveState(t, st, okState)
	okState.LastFetch, okState.LastSuccess, okState.NextFetch = now.Add(-10*time.Minute), now.Add(-10*time.Minute), now.Add(20*time.Minute+30*time.Second)
	okState.LastStatus, okState.LastDuration, okState.LastNew = 304, 45*time.Millisecond, 0
	saveState(t, st, okState)

	bad := feed.SourceState{Name: srcFailing, URL: sources[1].URL, LastFetch: now.Add(-72 * time.Hour), LastSuccess: now.Add(-72 * time.Hour),
		FirstSuccess: now.Add(-30 * 24 * time.Hour), NextFetch: now.Add(-3 * time.Hour), LastStatus: 200, LastDuration: time.Second}
	saveState(t, st, bad)
	for i := 1; i <= 3; i++ {
		bad.Failures, bad.LastStatus, bad.LastDuration = i, 503, 1500*time.Millisecond
		bad.LastFetch, bad.NextFetch = now.Add(-time.Duration(4-i)*time.Hour), now.Add(time.Duration(i)*time.Hour+30*time.Second)
		bad.LastError = o.lastError
		saveState(t, st, bad)
	}

	base := o.base
	ts := httptest.NewUnstartedServer(nil)
	if base == "" {
		base = "http://" + ts.Listener.Addr().String()
	}
	pub := publish.New(publish.Options{BaseURL: base, Version: "test", Now: func() time.Time { return now }},
		[]publish.FeedSpec{{Name: "all", Title: "Everything", Description: "All of it", Sources: []string{srcOK, srcFailing, srcNever}, Backfill: -1}},
		sources, st)
	if err := pub.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	var states states = st
	if o.wrap != nil {
		states = o.wrap(st)
	}
	srv := New(Options{BaseURL: base, Version: "test", Sources: sources}, pub, states)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	if !o.noCount {
		runServer(t, srv)
		testkit.WaitFor(t, "the first count of items per day", func() bool { return srv.perDay.last.Load() != nil })
	}
	return &statusFixture{srv: srv, store: st, ts: ts, base: base, now: now}
}

func saveState(t testing.TB, st *store.SQLite, s feed.SourceState) {
	t.Helper()
	if err := st.SaveState(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// parseHTML parses a page and fails the test on a page a browser would
// not read as written.
func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// tableRows lists the source names of the sources table's rows in order,
// and says whether its "no sources" row shows.
func tableRows(t *testing.T, body string) (names []string, emptyShown bool) {
	t.Helper()
	doc := parseHTML(t, body)
	for _, tr := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr }) {
		switch {
		case hasAttr(tr, "data-index"):
			names = append(names, nodeAttr(tr, "data-name"))
		case nodeAttr(tr, "id") == "no-rows":
			emptyShown = !hasAttr(tr, "hidden")
		}
	}
	return names, emptyShown
}

func TestStatusPageSortAndFilter(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example"})
	tests := []struct {
		query    string
		want     []string
		ariaSort string // of the sorted column's header
		next     string // its link's order, the other one
	}{
		{"", []string{srcOK, srcFailing, srcNever}, "", ""},
		{"?sort=name", []string{srcFailing, srcNever, srcOK}, "ascending", "desc"},
		{"?sort=name&order=desc", []string{srcOK, srcNever, srcFailing}, "descending", "asc"},
		{"?sort=status", []string{srcFailing, srcNever, srcOK}, "ascending", "desc"},
		{"?sort=failures", []string{srcFailing, srcOK, srcNever}, "descending", "asc"}, // most first; ties in config order
		{"?sort=failures&order=asc", []string{srcOK, srcNever, srcFailing}, "ascending", "desc"},
		{"?sort=last_success", []string{srcNever, srcFailing, srcOK}, "ascending", "desc"}, // never is the stalest
		{"?sort=next", []string{srcOK, srcFailing, srcNever}, "ascending", "desc"},         // none scheduled: last
		{"?sort=items", []string{srcOK, srcFailing, srcNever}, "descending", "asc"},
		{"?sort=per_day&order=asc", []string{srcFailing, srcNever, srcOK}, "ascending", "desc"},
		{"?status=failing", []string{srcFailing}, "", ""},
		{"?status=never&sort=name", []string{srcNever}, "ascending", "desc"},
		{"?status=ok&sort=name&order=desc", []string{srcOK}, "descending", "asc"},
		{"?status=gone", nil, "", ""},
		{"?status=bogus&sort=bogus&order=sideways", []string{srcOK, srcFailing, srcNever}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := do(t, "GET", f.ts.URL+"/"+tt.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %s", resp.Status)
			}
			names, emptyShown := tableRows(t, body)
			if !slices.Equal(names, tt.want) {
				t.Errorf("rows %q, want %q", names, tt.want)
			}
			if emptyShown != (len(tt.want) == 0) {
				t.Errorf("the no-sources row shows: %v, with %d rows", emptyShown, len(names))
			}
			doc := parseHTML(t, body)
			var sorted []string
			for _, th := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Th && hasAttr(n, "data-key") }) {
				a := findAll(th, func(n *html.Node) bool { return n.DataAtom == atom.A })[0]
				if s := nodeAttr(th, "aria-sort"); s != "" {
					sorted = append(sorted, s)
					if s != tt.ariaSort || !strings.Contains(nodeAttr(a, "href"), "order="+tt.next) {
						t.Errorf("sorted header %s: aria-sort %q, link %s; want %q and order=%s", nodeAttr(th, "data-key"), s, nodeAttr(a, "href"), tt.ariaSort, tt.next)
					}
				}
				if !strings.HasPrefix(nodeAttr(a, "href"), "http://feeds.example/?") {
					t.Errorf("header link %q is not the page's", nodeAttr(a, "href"))
				}
			}
			if (len(sorted) == 1) != (tt.ariaSort != "") || len(sorted) > 1 {
				t.Errorf("sorted headers %q, want one %q", sorted, tt.ariaSort)
			}
			// The filter's current choice is marked, and its links keep the sort.
			var current []string
			for _, a := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.A && hasAttr(n, "data-status") }) {
				if nodeAttr(a, "aria-current") == "true" {
					current = append(current, nodeAttr(a, "data-status"))
				}
				if tt.ariaSort != "" && !strings.Contains(nodeAttr(a, "href"), "sort=") {
					t.Errorf("filter link %q drops the sort", nodeAttr(a, "href"))
				}
			}
			wantStatus := parseListView(mustQuery(t, tt.query)).Status
			if !slices.Equal(current, []string{wantStatus}) {
				t.Errorf("current filter %q, want %q", current, wantStatus)
			}
		})
	}
}

func mustQuery(t *testing.T, q string) map[string][]string {
	t.Helper()
	req := httptest.NewRequest("GET", "/"+q, nil)
	return req.URL.Query()
}

// TestStatusPageContent: what the page says of each source and feed.
func TestStatusPageContent(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example"})
	resp, body := do(t, "GET", f.ts.URL+"/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	doc := parseHTML(t, body)
	row := func(name string) string {
		for _, tr := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Tr && nodeAttr(n, "data-name") == name }) {
			var b bytes.Buffer
			html.Render(&b, tr)
			return b.String()
		}
		t.Fatalf("no row for %s", name)
		return ""
	}
	tests := []struct {
		name string
		want []string
	}{
		{srcOK, []string{
			`<a class="name" href="http://feeds.example/sources/zeta-ok">zeta-ok</a>`, `<a href="https://zeta.example/">Zeta Blog</a>`, "tech",
			`<span class="ok">ok</span> <span class="muted">(304)</span>`, ">10m ago</time>", "in 20m", `data-label="Items">7</td>`,
			`data-label="Per day">0.6</td>`, // 4 items first seen in the last 7 days
		}},
		{srcFailing, []string{
			`<span class="err">failing</span> <span class="muted">(3 attempts in a row)</span>`, failingErr, "last success 3d ago",
			`<span class="err">3</span>`, "backing off after 3 failures", "tried 1h00m ago", `data-label="Per day">0</td>`,
		}},
		{srcNever, []string{"never fetched", "not fetched yet", `data-label="Items">0</td>`}},
	}
	for _, tt := range tests {
		r := row(tt.name)
		for _, want := range tt.want {
			if !strings.Contains(r, want) {
				t.Errorf("row %s lacks %q:\n%s", tt.name, want, r)
			}
		}
	}
	for _, want := range []string{
		`<a href="http://feeds.example/feeds/all.opml">OPML</a>`, `<a href="http://feeds.example/feeds/all.atom">Atom</a>`,
		"7 items", `<a href="https://zeta.example/posts/4">Post 4</a>`, `<a href="https://zeta.example/posts/2">Post 2</a>`,
		`<noscript><meta http-equiv="refresh" content="60"></noscript>`, `data-status-url="status.json"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The preview is the five newest items, not all seven.
	if strings.Contains(body, "https://zeta.example/old/1") || !strings.Contains(body, "https://zeta.example/old/3") {
		t.Error("the feed preview is not the five newest items")
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' http://feeds.example;") || strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

// statusJSONDoc is /status.json as a client reads it.
type statusJSONDoc struct {
	Generated time.Time `json:"generated"`
	Version   string    `json:"version"`
	Feeds     []struct {
		Name, Title, Description, Page, Atom, RSS, JSON, OPML string
		Items                                                 int
		Latest                                                []struct {
			Title, Link, Source string
			Date                time.Time
		}
	} `json:"feeds"`
	Sources []struct {
		Name, Title, URL, Site, Page, Status, Error string
		FetchURL                                    string    `json:"fetch_url"`
		HTTPStatus                                  int       `json:"http_status"`
		Failures, Items                             int       //
		PerDay                                      *float64  `json:"items_per_day"`
		LastFetch                                   time.Time `json:"last_fetch"`
		LastSuccess                                 time.Time `json:"last_success"`
		NextFetch                                   time.Time `json:"next_fetch"`
		Categories                                  []string
	} `json:"sources"`
	Counts map[string]int `json:"counts"`
}

func TestStatusJSON(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example"})
	before := time.Now()
	resp, body := do(t, "GET", f.ts.URL+"/status.json")
	after := time.Now()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /status.json: %s, %q, %q", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	// Every key, as a client sees it: the shape is an API.
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	shapes := []struct {
		what string
		got  any
		want []string
	}{
		{"document", raw, []string{"counts", "feeds", "generated", "sources", "version"}},
		{"feed", raw["feeds"].([]any)[0], []string{"atom", "description", "items", "json", "latest", "name", "opml", "page", "rss", "title"}},
		{"feed item", raw["feeds"].([]any)[0].(map[string]any)["latest"].([]any)[0], []string{"date", "link", "source", "title"}},
		{"ok source", raw["sources"].([]any)[0], []string{"categories", "failures", "feeds", "fetch_url", "http_status", "items", "items_per_day", "last_fetch", "last_success", "name", "next_fetch", "page", "site", "status", "title", "url"}},
		{"failing source", raw["sources"].([]any)[1], []string{"error", "failures", "feeds", "fetch_url", "http_status", "items", "items_per_day", "last_fetch", "last_success", "name", "next_fetch", "page", "status", "title", "url"}},
		{"unfetched source", raw["sources"].([]any)[2], []string{"failures", "feeds", "fetch_url", "items", "items_per_day", "name", "page", "status", "title", "url"}},
		{"counts", raw["counts"], []string{"all", "discovered", "failing", "gone", "moved", "never", "ok"}},
	}
	for _, s := range shapes {
		if got := keys(s.got); !slices.Equal(got, s.want) {
			t.Errorf("%s keys %q, want %q", s.what, got, s.want)
		}
	}

	var doc statusJSONDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	// Generated is the time of the request, in whole seconds.
	if doc.Version != "test" || doc.Generated.Before(before.Truncate(time.Second)) || doc.Generated.After(after) {
		t.Errorf("version %q, generated %v", doc.Version, doc.Generated)
	}
	if len(doc.Feeds) != 1 || doc.Feeds[0].Items != 7 || len(doc.Feeds[0].Latest) != 5 || doc.Feeds[0].Latest[0].Title != "Post 4" ||
		doc.Feeds[0].OPML != "http://feeds.example/feeds/all.opml" {
		t.Errorf("feeds %+v", doc.Feeds)
	}
	ok, bad, never := doc.Sources[0], doc.Sources[1], doc.Sources[2]
	if ok.Name != srcOK || ok.Status != "ok" || ok.HTTPStatus != 304 || ok.Items != 7 || ok.PerDay == nil || *ok.PerDay != 4.0/7 ||
		!ok.LastSuccess.Equal(f.now.Add(-10*time.Minute)) || ok.Page != "http://feeds.example/sources/zeta-ok" || ok.Title != "Zeta Blog" {
		t.Errorf("ok source %+v", ok)
	}
	if bad.Name != srcFailing || bad.Status != "failing" || bad.Error != failingErr || bad.Failures != 3 ||
		!bad.LastSuccess.Equal(f.now.Add(-72*time.Hour)) || !bad.LastFetch.Equal(f.now.Add(-time.Hour)) {
		t.Errorf("failing source %+v", bad)
	}
	if never.Name != srcNever || never.Status != "never" || !never.LastFetch.IsZero() {
		t.Errorf("unfetched source %+v", never)
	}
	if want := map[string]int{"all": 3, "ok": 1, "failing": 1, "never": 1, "gone": 0, "moved": 0, "discovered": 0}; !reflect.DeepEqual(doc.Counts, want) {
		t.Errorf("counts %v, want %v", doc.Counts, want)
	}

	// It takes the page's parameters.
	_, body = do(t, "GET", f.ts.URL+"/status.json?sort=name&order=desc&status=")
	doc = statusJSONDoc{}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range doc.Sources {
		names = append(names, s.Name)
	}
	if want := []string{srcOK, srcNever, srcFailing}; !slices.Equal(names, want) || doc.Counts["all"] != 3 {
		t.Errorf("sorted by name, descending: %q (counts %v), want %q", names, doc.Counts, want)
	}
	_, body = do(t, "GET", f.ts.URL+"/status.json?status=failing")
	doc = statusJSONDoc{}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Sources) != 1 || doc.Sources[0].Name != srcFailing || doc.Counts["all"] != 3 {
		t.Errorf("?status=failing: %+v, counts %v", doc.Sources, doc.Counts)
	}
}

func TestSourcePage(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example"})
	tests := []struct {
		path    string
		status  int
		want    []string
		fetches int // rows of the fetch history
		items   int
	}{
		{"/sources/" + srcOK, 200, []string{
			"<h1>Zeta Blog</h1>", `<span class="ok">ok</span> <span class="muted">(304)</span>`, "https://zeta.example/feed.xml",
			"45 ms", "120 ms", `data-label="HTTP">304</td>`, `data-label="HTTP">200</td>`, `data-label="New">4</td>`,
			`<a href="https://zeta.example/posts/4">Post 4</a>`, `<a href="https://zeta.example/old/1">Old post 1</a>`,
			"7 <span class=\"muted\">(keeps the newest 500)", "0.6",
		}, 2, 7},
		{"/sources/" + srcFailing, 200, []string{
			"<h1>alpha-failing</h1>", `<dt>Last error</dt><dd class="err">` + failingErr + `</dd>`, "(3 attempts in a row)",
			`data-label="HTTP">503</td>`, "1.5 s", `<span class="err">` + failingErr + `</span>`, "backing off after 3 failures",
		}, 4, 0},
		{"/sources/" + srcNever, 200, []string{"never fetched", "No fetch recorded yet.", "No items stored."}, 0, 0},
		{"/sources/nope", 404, []string{"no source named nope"}, 0, 0},
		{"/sources/" + srcOK + "/more", 404, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, "GET", f.ts.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d", resp.Status, tt.status)
			}
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			if tt.status != 200 {
				return
			}
			doc := parseHTML(t, body)
			var fetches, items int
			for _, tb := range findAll(doc, func(n *html.Node) bool { return nodeAttr(n, "id") == "fetches" }) {
				fetches = len(findAll(tb, func(n *html.Node) bool {
					return n.DataAtom == atom.Tr && n.Parent.DataAtom == atom.Tbody && nodeAttr(n, "class") != "empty"
				}))
			}
			for _, ul := range findAll(doc, func(n *html.Node) bool { return nodeAttr(n, "id") == "items" }) {
				items = len(findAll(ul, func(n *html.Node) bool { return n.DataAtom == atom.Li && nodeAttr(n, "class") != "muted" }))
			}
			if fetches != tt.fetches || items != tt.items {
				t.Errorf("%d fetches and %d items listed, want %d and %d", fetches, items, tt.fetches, tt.items)
			}
			if problems := pageProblems(t, []byte(body)); len(problems) > 0 {
				t.Errorf("page problems: %q", problems)
			}
		})
	}
}

// TestSourcePageNewestFirst: the history lists the newest attempt first.
func TestSourcePageNewestFirst(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example"})
	_, body := do(t, "GET", f.ts.URL+"/sources/"+srcFailing)
	doc := parseHTML(t, body)
	var times []string
	for _, tb := range findAll(doc, func(n *html.Node) bool { return nodeAttr(n, "id") == "fetches" }) {
		for _, tm := range findAll(tb, func(n *html.Node) bool { return n.DataAtom == atom.Time }) {
			times = append(times, nodeAttr(tm, "datetime"))
		}
	}
	want := []string{iso(f.now.Add(-time.Hour)), iso(f.now.Add(-2 * time.Hour)), iso(f.now.Add(-3 * time.Hour)), iso(f.now.Add(-72 * time.Hour))}
	if !slices.Equal(times, want) {
		t.Errorf("fetch times %q, want %q", times, want)
	}
}

// TestPagesEscapeHostileState: what a feed or a failing server chose (its
// error text, titles, links) is text on every page, never markup.
func TestPagesEscapeHostileState(t *testing.T) {
	const hostileErr = `fetch https://alpha.example/feed: <script>alert(1)</script><img src=x onerror=alert(2)>`
	const hostileTitle = `<b onmouseover="alert(3)">Post</b>`
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example", lastError: hostileErr, itemTitle: hostileTitle})
	ctx := context.Background()
	st, err := f.store.State(ctx, srcOK)
	if err != nil {
		t.Fatal(err)
	}
	st.FeedTitle, st.FeedLink = `<script>alert(4)</script>`, `javascript:alert(5)`
	st.Moved, st.Discovered = `https://zeta.example/moved"><script>alert(6)</script>`, `data:text/html,<script>alert(7)</script>`
	saveState(t, f.store, st)

	for _, path := range []string{"/", "/?sort=name", "/?status=failing", "/sources/" + srcOK, "/sources/" + srcFailing} {
		resp, body := do(t, "GET", f.ts.URL+path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if problems := pageProblems(t, []byte(body)); len(problems) > 0 {
			t.Errorf("%s: %q", path, problems)
		}
		for _, bad := range []string{"<script>", "<img", "<b onmouseover", `href="javascript:`, `href="data:`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s carries %q", path, bad)
			}
		}
	}
	_, body := do(t, "GET", f.ts.URL+"/")
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;", "&lt;b onmouseover=&#34;alert(3)&#34;&gt;Post&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the status page lacks the escaped %q", want)
		}
	}
	// In JSON, markup is data: escaped for HTML too, so that a careless
	// page that pastes it in stays inert.
	_, body = do(t, "GET", f.ts.URL+"/status.json")
	if strings.ContainsAny(body, "<>") {
		t.Errorf("/status.json carries raw < or >:\n%s", body)
	}
	var doc statusJSONDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Sources[1].Error != hostileErr {
		t.Errorf("/status.json error %q, want it as stored", doc.Sources[1].Error)
	}
}

// TestPagesNeedNothingExternal: the pages load their stylesheet and script
// from this server only (no CDN), the assets are cacheable for ever under
// names that change with their content, and neither refers to any other
// site.
func TestPagesNeedNothingExternal(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{})
	var assets []string
	for _, path := range []string{"/", "/sources/" + srcOK, "/feeds/all"} {
		resp, body := do(t, "GET", f.ts.URL+path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self' " + f.base + ";", "style-src 'self' " + f.base + ";", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		doc := parseHTML(t, body)
		for _, n := range findAll(doc, func(n *html.Node) bool {
			return n.DataAtom == atom.Script || n.DataAtom == atom.Link && nodeAttr(n, "rel") != "alternate" || n.DataAtom == atom.Style || n.DataAtom == atom.Img
		}) {
			ref := nodeAttr(n, "src") + nodeAttr(n, "href")
			if !strings.HasPrefix(ref, f.base+"/assets/") {
				t.Errorf("%s: <%s> loads %q, not one of our assets", path, n.Data, ref)
			}
			if n.FirstChild != nil || hasAttr(n, "style") {
				t.Errorf("%s: inline <%s> content", path, n.Data)
			}
			if !slices.Contains(assets, ref) {
				assets = append(assets, ref)
			}
		}
		for _, n := range findAll(doc, func(n *html.Node) bool { return hasAttr(n, "style") }) {
			t.Errorf("%s: <%s style=...> (the policy blocks inline style)", path, n.Data)
		}
	}
	if len(assets) != 2 {
		t.Fatalf("assets %q, want a stylesheet and a script", assets)
	}
	for _, ref := range assets {
		resp, body := do(t, "GET", ref)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("ETag") == "" {
			t.Fatalf("GET %s: %s %v", ref, resp.Status, resp.Header)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, map[bool]string{true: "text/css", false: "text/javascript"}[strings.HasSuffix(ref, ".css")]) {
			t.Errorf("%s served as %q", ref, ct)
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "@import") || strings.Contains(body, "//cdn") {
			t.Errorf("%s refers to another site", ref)
		}
		if resp, _ := do(t, "GET", ref, "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %s, want 304", ref, resp.Status)
		}
		if resp, gz := do(t, "GET", ref, "Accept-Encoding", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(body) {
			t.Errorf("GET %s with gzip: %q encoding, %d bytes of %d", ref, resp.Header.Get("Content-Encoding"), len(gz), len(body))
		}
		// Another build's name is not this file.
		stale := strings.Replace(ref, "/status.", "/status.000000000000", 1)
		if resp, _ := do(t, "GET", stale); resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", stale, resp.Status)
		}
	}
}

// countingStates counts how often the status pages count recent items.
type countingStates struct {
	*store.SQLite
	counts *atomic.Int32
}

func (c countingStates) RecentItemCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	c.counts.Add(1)
	return c.SQLite.RecentItemCounts(ctx, since)
}

// TestItemsPerDayCached: the recent item counts, which may scan the items,
// are taken once by Run, not by the pages, however often they load within
// perDayTTL.
func TestItemsPerDayCached(t *testing.T) {
	var n atomic.Int32
	f := newStatusFixture(t, fixtureOptions{wrap: func(s *store.SQLite) states { return countingStates{s, &n} }})
	for range 5 {
		for _, path := range []string{"/", "/status.json", "/sources/" + srcOK} {
			if resp, _ := do(t, "GET", f.ts.URL+path); resp.StatusCode != 200 {
				t.Fatalf("GET %s: %s", path, resp.Status)
			}
		}
	}
	if got := n.Load(); got != 1 {
		t.Errorf("recent items counted %d times, want once", got)
	}
}

// blockedStates' count of recent items waits for release, whatever its
// context says: a page that waited for it would never answer.
type blockedStates struct {
	*store.SQLite
	started chan struct{}
	release chan struct{}
}

func (b blockedStates) RecentItemCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	close(b.started)
	<-b.release
	return b.SQLite.RecentItemCounts(ctx, since)
}

// TestItemsPerDayNotOnRequest: the pages never wait for the count of
// recent items. While the first count runs they answer without the
// per-day figures ("–", no items_per_day), and show them once it is done.
func TestItemsPerDayNotOnRequest(t *testing.T) {
	b := blockedStates{started: make(chan struct{}), release: make(chan struct{})}
	f := newStatusFixture(t, fixtureOptions{noCount: true, wrap: func(s *store.SQLite) states { b.SQLite = s; return b }})
	released := false
	t.Cleanup(func() {
		if !released {
			close(b.release) // lets Run end
		}
	})
	runServer(t, f.srv)
	<-b.started
	perDay := func() []*float64 {
		var doc statusJSONDoc
		resp, body := do(t, "GET", f.ts.URL+"/status.json")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /status.json: %s", resp.Status)
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		var out []*float64
		for _, src := range doc.Sources {
			out = append(out, src.PerDay)
		}
		return out
	}
	answered := make(chan []*float64, 1)
	go func() { answered <- perDay() }()
	select {
	case got := <-answered:
		if slices.ContainsFunc(got, func(p *float64) bool { return p != nil }) {
			t.Errorf("items per day %v before any count", got)
		}
	case <-time.After(testkit.WaitLimit):
		t.Fatal("status.json waited for the count of recent items")
	}
	if resp, body := do(t, "GET", f.ts.URL+"/"); resp.StatusCode != 200 || !strings.Contains(body, `data-per-day="-1"`) {
		t.Errorf("GET / during the first count: %s, want the per-day column empty", resp.Status)
	}
	close(b.release)
	released = true
	testkit.WaitFor(t, "the count's items per day on status.json", func() bool {
		got := perDay()
		return got[0] != nil && *got[0] == 4.0/7
	})
}

// TestPerDayStale: when a count is due again.
func TestPerDayStale(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"just counted", at, false},
		{"within the TTL", at.Add(perDayTTL - time.Second), false},
		{"at the TTL", at.Add(perDayTTL), true},
		{"long after", at.Add(time.Hour), true},
		{"clock set back", at.Add(-time.Second), true},
	}
	for _, tt := range tests {
		if got := perDayStale(at, tt.now); got != tt.want {
			t.Errorf("%s: stale %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestShorten(t *testing.T) {
	long := strings.Repeat("word ", 50)
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefghi…"},
		{"one two three four five", 12, "one two thr…"}, // no space near the end
		{"alpha beta gamma delta", 18, "alpha beta gamma…"},
		{"héllo wörld ünïcode", 8, "héllo w…"},
		{long, 20, "word word word word…"},
		{"a: b, c; d e", 6, "a: b…"},
	}
	for _, tt := range tests {
		if got := shorten(tt.in, tt.max); got != tt.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if got := shorten(tt.in, tt.max); len([]rune(got)) > tt.max {
			t.Errorf("shorten(%q, %d) = %q: longer than %d", tt.in, tt.max, got, tt.max)
		}
	}
}

// TestLongErrorShortened: a long error is cut in the table, whole in its
// title and on the source's page.
func TestLongErrorShortened(t *testing.T) {
	longErr := "fetch https://alpha.example/feed: " + strings.Repeat("the server said something long and unhelpful ", 8) + "END"
	f := newStatusFixture(t, fixtureOptions{lastError: longErr})
	_, body := do(t, "GET", f.ts.URL+"/")
	doc := parseHTML(t, body)
	var cell *html.Node
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Span && nodeAttr(n, "title") == longErr }) {
		cell = n
	}
	if cell == nil {
		t.Fatalf("no element carries the whole error in its title")
	}
	if text := textOf(cell); !strings.HasSuffix(text, "…") || len([]rune(text)) > 160 || strings.Contains(text, "END") {
		t.Errorf("table shows %q", text)
	}
	if _, body := do(t, "GET", f.ts.URL+"/sources/"+srcFailing); !strings.Contains(body, longErr) {
		t.Error("the source page does not show the whole error")
	}
}

// TestWhen: times are told relative to now within a week, either way,
// and by their day beyond, never as "1231d ago".
func TestWhen(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name  string
		t     time.Time
		ago   string
		until string
	}{
		{"seconds", now.Add(-30 * time.Second), "30s ago", "due now"},
		{"now", now, "0s ago", "due now"},
		{"minutes", now.Add(-4 * time.Minute), "4m ago", "due now"},
		{"hours and minutes", now.Add(-(2*time.Hour + 5*time.Minute)), "2h05m ago", "due now"},
		{"days", now.Add(-72 * time.Hour), "3d ago", "due now"},
		{"a minute under a week", now.Add(-(7*day - time.Minute)), "6d ago", "due now"},
		{"6d23h", now.Add(-(6*day + 23*time.Hour)), "6d ago", "due now"},
		{"a week", now.Add(-7 * day), "13 Nov 2026", "due now"},
		{"400 days", now.Add(-400 * day), "16 Oct 2025", "due now"},
		{"1231 days", now.Add(-1231 * day), "8 Jul 2023", "due now"},
		{"in 12 minutes", now.Add(12*time.Minute + time.Second), "in 12m", "in 12m"},
		{"in 6d23h", now.Add(6*day + 23*time.Hour), "in 6d", "in 6d"},
		{"in a week", now.Add(7 * day), "27 Nov 2026", "27 Nov 2026"},
		{"in 400 days", now.Add(400 * day), "25 Dec 2027", "25 Dec 2027"},
		{"a day told in UTC", time.Date(2026, 1, 2, 23, 30, 0, 0, time.FixedZone("east", -5*3600)), "3 Jan 2026", "due now"},
		{"zero", time.Time{}, "", "due now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ago(now, tt.t); got != tt.ago {
				t.Errorf("ago(%v) = %q, want %q", now.Sub(tt.t), got, tt.ago)
			}
			if got := until(now, tt.t); got != tt.until {
				t.Errorf("until(%v) = %q, want %q", tt.t.Sub(now), got, tt.until)
			}
		})
	}
}

// TestFeedPageItems: the feed's page shows each item so that a person can
// read the feed there: its title linked to the article, its source linked
// to the source's page, its date, an excerpt of its text and its picture,
// which the page's policy lets load from the picture's own host.
func TestFeedPageItems(t *testing.T) {
	long := "<p>The harbour wall <b>repairs</b> finished early &amp; under budget.</p><script>alert(1)</script>" + strings.Repeat("<p>More about the stones and the tides.</p>", 20)
	tests := []struct {
		name, text, image string
		want, reject      []string
	}{
		{
			name:  "summary and picture",
			text:  long,
			image: "https://images.example/wall.jpg?w=640&h=360",
			want: []string{
				`<img class="thumb" src="https://images.example/wall.jpg?w=640&amp;h=360" alt="" loading="lazy" decoding="async"`,
				`<h3><a href="https://zeta.example/posts/3">Post 3</a></h3>`,
				`<a href="http://feeds.example/sources/zeta-ok">zeta-ok</a> · <time datetime=`,
				`<p class="excerpt">The harbour wall repairs finished early &amp; under budget. More about the stones`,
				"…</p>",
				">7h00m ago</time>",
			},
			reject: []string{"<script>alert", "alert(1)", "<b>repairs</b>"},
		},
		{
			name:   "a picture that is no web address",
			text:   "Short.",
			image:  "javascript:alert(1)",
			want:   []string{`<p class="excerpt">Short.</p>`},
			reject: []string{"<img", "javascript:"},
		},
		{
			name:   "a relative picture",
			image:  "/wall.jpg",
			reject: []string{"<img", `class="excerpt"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example", itemText: tc.text, itemImage: tc.image})
			resp, body := do(t, "GET", f.ts.URL+"/feeds/all")
			if resp.StatusCode != 200 {
				t.Fatalf("status %s", resp.Status)
			}
			doc := parseHTML(t, body)
			var post3 string
			for _, li := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Li && nodeAttr(n, "class") == "item" }) {
				var b bytes.Buffer
				html.Render(&b, li)
				if strings.Contains(b.String(), "Post 3") {
					post3 = b.String()
				}
			}
			if post3 == "" {
				t.Fatalf("no item Post 3 on the page:\n%s", body)
			}
			for _, want := range tc.want {
				if !strings.Contains(post3, want) {
					t.Errorf("item lacks %q:\n%s", want, post3)
				}
			}
			for _, reject := range tc.reject {
				if strings.Contains(post3, reject) {
					t.Errorf("item has %q:\n%s", reject, post3)
				}
			}
			// Every item names its source, linked, and its date.
			if n := strings.Count(body, `<a href="http://feeds.example/sources/zeta-ok">zeta-ok</a> · <time`); n != 7 {
				t.Errorf("%d items name their source and date, want 7", n)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, want := range []string{"img-src 'self' http://feeds.example https: http:;", "script-src 'self' http://feeds.example;", "default-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
		})
	}
	// The other pages show no pictures from elsewhere, and their policy
	// says so.
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example"})
	for _, path := range []string{"/", "/sources/" + srcOK} {
		resp, _ := do(t, "GET", f.ts.URL+path)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' http://feeds.example;") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
}

// TestPagesShowDerivedTitles: an item without a title is listed on the
// status page, status.json, the feed page and the source page under the
// title the published feeds derive from its text, never "(untitled)".
func TestPagesShowDerivedTitles(t *testing.T) {
	f := newStatusFixture(t, fixtureOptions{base: "http://feeds.example", itemSummary: "<p>Harbour wall <b>repairs</b> finished early</p>"})
	const derived = "Harbour wall repairs finished early"
	_, atomBody := do(t, "GET", f.ts.URL+"/feeds/all.atom")
	if !strings.Contains(atomBody, "<title>"+derived+"</title>") && !strings.Contains(atomBody, `<title type="text">`+derived+"</title>") {
		t.Fatalf("the Atom feed does not derive %q:\n%s", derived, atomBody)
	}
	for _, path := range []string{"/", "/status.json", "/feeds/all", "/sources/" + srcOK} {
		t.Run(path, func(t *testing.T) {
			resp, body := do(t, "GET", f.ts.URL+path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %s", resp.Status)
			}
			if strings.Contains(body, "(untitled)") || !strings.Contains(body, derived) {
				t.Errorf("%s does not list the item as %q:\n%s", path, derived, body)
			}
		})
	}
}
