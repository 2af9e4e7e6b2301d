package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/publish"
	"github.com/feedmill/feedmill/internal/server"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
	"github.com/feedmill/feedmill/internal/websub"
)

// chatty serves an RSS feed of n dated items whose titles cycle through a
// few subjects, for filters and paging.
func chatty(t *testing.T, name string, n int) *httptest.Server {
	t.Helper()
	subjects := []string{"Go generics in practice", "Sponsored: buy our Go course", "Rust and Go compared", "Gardening in spring", "Go 1.26 released"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>d</description>`, name, name)
		for i := range n {
			fmt.Fprintf(w, `<item><title>%s #%d</title><link>https://%s.example/%d</link><guid>https://%s.example/%d</guid><pubDate>%s</pubDate><category>%s</category><description>Post %d of %s.</description></item>`,
				subjects[i%len(subjects)], i, name, i, name, i, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*37*time.Hour).Format(time.RFC1123Z), []string{"tech", "misc"}[i%2], i, name)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// staticSource serves one file of testdata/sources.
func staticSource(t *testing.T, file, contentType string) *httptest.Server {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "sources", file))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCompat is what `make compat` runs: a realistic config (every input
// format, news sites with full text, filters, paging) and every document
// it publishes, current and archived, in every format, judged by
// ../shared/tools/feedcheck as real readers judge them.
func TestCompat(t *testing.T) {
	var cfg strings.Builder
	cfg.WriteString("server:\n  listen: 127.0.0.1:8080\n  base_url: http://127.0.0.1:8080\nstorage:\n  dsn: feedmill.db\nsources:\n")
	for _, f := range []struct{ name, file, ct, cats string }{
		{"oldschool", "rss091.xml", "application/rss+xml", "[news]"},
		{"rdf", "rss10.xml", "application/rdf+xml", "[science]"},
		{"podcast", "rss20.xml", "application/rss+xml", "[audio, news]"},
		{"atomblog", "atom.xml", "application/atom+xml", "[tech]"},
		{"kitchen", "feed.json", "application/feed+json", "[food]"},
	} {
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s/%s\n    categories: %s\n", f.name, staticSource(t, f.file, f.ct).URL, f.file, f.cats)
	}
	for _, s := range loadSites(t) {
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s/feed.xml\n    full_text: true\n    categories: [news]\n", s.dir, s.serve(t).URL)
	}
	fmt.Fprintf(&cfg, "  - name: blog-one\n    url: %s\n    categories: [tech]\n  - name: blog-two\n    url: %s\n    categories: [tech]\n", chatty(t, "one", 40).URL, chatty(t, "two", 25).URL)
	cfg.WriteString(`feeds:
  - name: all
    title: Everything
    sources: ["*"]
    limit: 10
    backfill: all
  - name: news
    categories: [news]
    limit: 5
  - name: golang
    title: Go, no ads
    sources: ["blog-*"]
    include: ['(?i)\bgo\b']
    exclude: ['(?i)^sponsored']
    per_source_limit: 3
    backfill: all
  - name: fresh
    sources: ["*"]
    max_age: 36500d
    backfill: 2
    dedupe: title
`)
	p := pipelineFor(t, cfg.String())
	for _, res := range p.refresher.RefreshAll(t.Context(), false) {
		if res.Err != nil {
			t.Fatalf("refresh %s: %v", res.Source, res.Err)
		}
	}
	if err := p.publisher.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}

	t.Run("filters", func(t *testing.T) {
		golang := publishedJSON(t, p, "golang")
		per := map[string]int{}
		for _, it := range golang.Items {
			per[it.Feedmill.Source.Name]++
			if strings.HasPrefix(it.Title, "Sponsored") || strings.HasPrefix(it.Title, "Gardening") {
				t.Errorf("golang feed carries %q", it.Title)
			}
		}
		if per["blog-one"] != 3 || per["blog-two"] != 3 || len(golang.Items) != 6 {
			t.Errorf("golang feed: %d items, per source %v; want 3 of each blog", len(golang.Items), per)
		}
		fresh := publishedJSON(t, p, "fresh")
		per = map[string]int{}
		for _, it := range fresh.Items {
			per[it.Feedmill.Source.Name]++
		}
		for src, n := range per {
			if n > 2 {
				t.Errorf("fresh feed: %d backlog items of %s, want at most backfill 2", n, src)
			}
		}
	})

	t.Run("paging reaches every item", func(t *testing.T) {
		stored, err := p.store.Items(t.Context(), feedQueryAll(p))
		if err != nil {
			t.Fatal(err)
		}
		ids := walkJSON(t, p, publish.FeedURL(p.cfg.Server.BaseURL, "all", publish.JSON))
		// One story is carried by two sources, so one stored item is
		// published as part of another's story. Archive pages group
		// copies within a page only; both copies lie on the same page
		// (or both in the current document) here, so the walk counts
		// the story once.
		if len(ids) != len(stored)-1 {
			t.Errorf("walking next_url from the current document reaches %d stories; the store holds %d items (one shared story)", len(ids), len(stored))
		}
	})

	t.Run("feedcheck", func(t *testing.T) {
		tool := testkit.Feedcheck(t)
		dir := t.TempDir()
		var docs []string
		for _, spec := range p.publisher.Feeds() {
			for _, f := range []publish.Format{publish.RSS, publish.Atom, publish.JSON} {
				snap, _ := p.publisher.Snapshot(spec.Name, f)
				docs = append(docs, writeDoc(t, dir, fmt.Sprintf("%s.%s", spec.Name, f), snap.Body))
				for page := 1; ; page++ {
					snap, err := p.publisher.Archive(t.Context(), spec.Name, f, page)
					if errors.Is(err, publish.ErrNotFound) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					docs = append(docs, writeDoc(t, dir, fmt.Sprintf("%s-archive-%d.%s", spec.Name, page, f), snap.Body))
				}
			}
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for _, doc := range docs {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				format := strings.TrimPrefix(filepath.Ext(doc), ".")
				out, err := exec.CommandContext(t.Context(), tool, doc, "--format", format).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "feedcheck: OK") {
					t.Errorf("feedcheck %s: %v\n%s", filepath.Base(doc), err, lastLine(out))
				}
			})
		}
		wg.Wait()
		t.Logf("feedcheck judged %d documents", len(docs))
	})

	t.Run("opml round trip", func(t *testing.T) {
		snap := p.publisher.OPML()
		dir := t.TempDir()
		path := filepath.Join(dir, "feeds.yaml")
		if err := os.WriteFile(path, []byte("# my feeds\nsources: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		added, _, err := config.Import(path, snap.Body)
		if err != nil {
			t.Fatal(err)
		}
		imported, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, s := range p.cfg.Sources {
			want[s.URL] = true
		}
		for _, s := range imported.Sources {
			if !want[s.URL] {
				t.Errorf("imported a source we do not have: %s", s.URL)
			}
			delete(want, s.URL)
		}
		if len(want) > 0 || len(added) != len(p.cfg.Sources) {
			t.Errorf("round trip lost sources %v (added %d of %d)", want, len(added), len(p.cfg.Sources))
		}
		var doc struct {
			Body struct {
				Outlines []struct {
					XMLURL string `xml:"xmlUrl,attr"`
				} `xml:"outline"`
			} `xml:"body"`
		}
		fsnap, ok := p.publisher.FeedOPML("golang")
		if !ok || xml.Unmarshal(fsnap.Body, &doc) != nil || len(doc.Body.Outlines) != 2 {
			t.Errorf("golang OPML: %d outlines, want its 2 sources", len(doc.Body.Outlines))
		}
	})
}

func feedQueryAll(p *pipeline) (q feed.Query) {
	for _, s := range p.cfg.Sources {
		q.Sources = append(q.Sources, s.Name)
	}
	return q
}

func writeDoc(t *testing.T, dir, name string, body []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// walkJSON follows next_url from a JSON Feed URL of ours to the end and
// returns every item id seen.
func walkJSON(t *testing.T, p *pipeline, start string) []string {
	t.Helper()
	base := p.cfg.Server.BaseURL
	seen := map[string]bool{}
	for u, n := start, 0; u != ""; n++ {
		if n > 100 {
			t.Fatal("more than 100 pages")
		}
		var snap *publish.Snapshot
		if u == start {
			snap, _ = p.publisher.Snapshot("all", publish.JSON)
		} else {
			var page int
			if _, err := fmt.Sscanf(strings.TrimPrefix(u, base+"/feeds/all/archive/"), "%d.json", &page); err != nil {
				t.Fatalf("next_url %q is not an archive page of ours", u)
			}
			var err error
			if snap, err = p.publisher.Archive(t.Context(), "all", publish.JSON, page); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
		}
		var doc struct {
			NextURL string `json:"next_url"`
			Items   []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(snap.Body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, it := range doc.Items {
			seen[it.ID] = true
		}
		u = doc.NextURL
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// served is a pipeline behind a real HTTP server on 127.0.0.1, with its
// background loops (refresh scheduling aside) running.
func served(t *testing.T, yaml func(base string) string) (*pipeline, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	p := pipelineFor(t, yaml(base))
	srv := httptest.NewUnstartedServer(server.New(server.Options{
		BaseURL: base, Version: "test", Sources: p.cfg.DomainSources(),
		Hub: p.hubURL, WebSubHub: hubHandler(p.hub), WebSubCallback: p.subscriber,
	}, p.publisher, p.store))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	if p.hub != nil {
		wg.Go(func() { p.hub.Run(ctx) })
	}
	wg.Go(func() { p.subscriber.Run(ctx) })
	return p, base
}

// mutableFeed is a source whose items the test adds to; it advertises a
// hub when one is set.
type mutableFeed struct {
	*httptest.Server
	mu     sync.Mutex
	titles []string
	hub    string
}

func newMutableFeed(t *testing.T) *mutableFeed {
	t.Helper()
	m := &mutableFeed{titles: []string{"First post"}}
	mux := http.NewServeMux()
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	mux.HandleFunc("GET /feeds/blog.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(m.body())
	})
	return m
}

func (m *mutableFeed) topic() string { return m.URL + "/feeds/blog.xml" }

func (m *mutableFeed) body() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, `<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Blog</title><link>https://blog.example/</link><description>d</description><atom:link rel="self" href="%s"/>`, m.topic())
	if m.hub != "" {
		fmt.Fprintf(&b, `<atom:link rel="hub" href="%s"/>`, m.hub)
	}
	for i, title := range m.titles {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://blog.example/%d</link><pubDate>%s</pubDate></item>`, title, i, time.Date(2025, 6, 1, i, 0, 0, 0, time.UTC).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

func (m *mutableFeed) add(title string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.titles = append(m.titles, title)
}

// TestWebSubHub: a reader subscribes to our Atom feed at our built-in hub,
// verifies its intent, and receives the new document, signed with its
// secret, when a refresh publishes a new item.
func TestWebSubHub(t *testing.T) {
	src := newMutableFeed(t)
	p, base := served(t, func(base string) string {
		// Readers' callbacks are on 127.0.0.1, which the guarded WebSub
		// client refuses unless private addresses are allowed.
		return fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nfetch:\n  allow_private: true\nsources:\n  - name: blog\n    url: %s\n", strings.TrimPrefix(base, "http://"), base, src.topic())
	})
	p.refresher.RefreshAll(t.Context(), false) // start: items, no announcement

	type push struct {
		body      []byte
		signature string
		links     []string
	}
	var mu sync.Mutex
	var verified bool
	var pushes []push
	reader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodGet {
			if r.URL.Query().Get("hub.mode") == "subscribe" && r.URL.Query().Get("hub.topic") == base+"/feeds/all.atom" {
				verified = true
				io.WriteString(w, r.URL.Query().Get("hub.challenge"))
				return
			}
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		pushes = append(pushes, push{body, r.Header.Get("X-Hub-Signature"), r.Header.Values("Link")})
	}))
	defer reader.Close()

	// Discovery: the feed and its headers name the hub.
	resp, err := http.Get(base + "/feeds/all.atom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hub := base + "/websub/hub"
	if !strings.Contains(string(body), `href="`+hub+`" rel="hub"`) && !strings.Contains(string(body), `rel="hub" href="`+hub+`"`) {
		t.Errorf("the Atom feed does not advertise the hub %s", hub)
	}
	if links := strings.Join(resp.Header.Values("Link"), ", "); !strings.Contains(links, "<"+hub+`>; rel="hub"`) {
		t.Errorf("Link headers %q lack the hub", links)
	}

	secret := "reader-secret"
	resp, err = http.PostForm(hub, url.Values{
		"hub.mode": {"subscribe"}, "hub.topic": {base + "/feeds/all.atom"},
		"hub.callback": {reader.URL + "/cb"}, "hub.secret": {secret}, "hub.lease_seconds": {"86400"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscription request: %s, want 202", resp.Status)
	}
	testkit.WaitFor(t, "the hub verified the subscription", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return verified
	})
	// The hub sends the current document to a new subscriber as a courtesy;
	// wait for it so the next push is the new one.
	testkit.WaitFor(t, "the welcome delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(pushes) >= 1 })

	src.add("Second post, pushed")
	p.refresher.RefreshAll(t.Context(), false)
	testkit.WaitFor(t, "the new document reached the reader", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pushes) >= 2 && strings.Contains(string(pushes[len(pushes)-1].body), "Second post, pushed")
	})
	mu.Lock()
	last := pushes[len(pushes)-1]
	mu.Unlock()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(last.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); last.signature != want {
		t.Errorf("X-Hub-Signature %q, want %q", last.signature, want)
	}
	if links := strings.Join(last.links, ", "); !strings.Contains(links, `rel="hub"`) || !strings.Contains(links, base+"/feeds/all.atom") {
		t.Errorf("delivery Link headers %q", links)
	}
}

// TestWebSubHubLimits: the built-in hub takes subscriptions only to the
// feeds the publisher renders, and applies the hub: limits of the config.
func TestWebSubHubLimits(t *testing.T) {
	src := newMutableFeed(t)
	p, base := served(t, func(base string) string {
		return fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nfetch:\n  allow_private: true\nhub:\n  per_client_pending: 1\nsources:\n  - name: blog\n    url: %s\n", strings.TrimPrefix(base, "http://"), base, src.topic())
	})
	p.refresher.RefreshAll(t.Context(), false)

	// A reader that never answers its verification: its request stays
	// pending until the test ends.
	release := make(chan struct{})
	reader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer reader.Close()
	defer close(release)

	subscribe := func(topic, callback string) (int, string) {
		t.Helper()
		resp, err := http.PostForm(base+"/websub/hub", url.Values{
			"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {callback},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := subscribe(base+"/feeds/none.atom", reader.URL+"/a"); code != http.StatusBadRequest || !strings.Contains(body, "not a feed this server publishes") {
		t.Errorf("subscription to a feed we do not publish: %d %q, want 400", code, body)
	}
	if code, body := subscribe(base+"/sources/none.atom", reader.URL+"/a"); code != http.StatusBadRequest || !strings.Contains(body, "not a feed this server publishes") {
		t.Errorf("subscription to a source we do not have: %d %q, want 400", code, body)
	}
	if code, body := subscribe(base+"/feeds/all.atom", reader.URL+"/a"); code != http.StatusAccepted {
		t.Fatalf("first subscription: %d %q, want 202", code, body)
	}
	if code, body := subscribe(base+"/feeds/all.rss", reader.URL+"/b"); code != http.StatusTooManyRequests || !strings.Contains(body, "at most 1") {
		t.Errorf("second pending subscription of the client: %d %q, want 429 (hub.per_client_pending: 1)", code, body)
	}
}

// TestWebSubSource: a source with websub: true advertises a hub; feedmill
// subscribes after its first fetch, the hub verifies our intent, and a
// push from the hub puts the new item in our feed without a fetch.
func TestWebSubSource(t *testing.T) {
	src := newMutableFeed(t)
	// The source's hub: a WebSub hub of its own, on its own store.
	hubStore, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "hub.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hubStore.Close()
	hubMux := http.NewServeMux()
	hubSrv := httptest.NewServer(hubMux)
	defer hubSrv.Close()
	theirHub := websub.NewHub(websub.HubOptions{BaseURL: src.URL, HubURL: hubSrv.URL + "/hub", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, hubStore)
	hubMux.Handle("POST /hub", theirHub)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go theirHub.Run(ctx)
	src.mu.Lock()
	src.hub = hubSrv.URL + "/hub"
	src.mu.Unlock()

	p, _ := served(t, func(base string) string {
		// The source's hub is on 127.0.0.1, which the guarded WebSub
		// client refuses unless private addresses are allowed.
		return fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nstorage:\n  dsn: feedmill.db\nfetch:\n  allow_private: true\nsources:\n  - name: blog\n    url: %s\n    websub: true\n", strings.TrimPrefix(base, "http://"), base, src.topic())
	})
	p.refresher.RefreshAll(t.Context(), false)
	testkit.WaitFor(t, "our subscription is active", func() bool {
		sub, ok, err := p.store.SourceSubscription(t.Context(), "blog")
		return err == nil && ok && sub.State == "active"
	})
	// The hub stores the subscription after our callback confirmed it:
	// a publication before that reaches nobody.
	testkit.WaitFor(t, "their hub holds the subscription", func() bool {
		subs, err := hubStore.HubSubscriptions(t.Context(), src.topic(), time.Now())
		return err == nil && len(subs) == 1
	})
	src.add("Pushed, not polled")
	theirHub.Publish(src.topic(), src.body(), "application/rss+xml")
	testkit.WaitFor(t, "the pushed item is published", func() bool {
		for _, it := range publishedJSON(t, p, "all").Items {
			if it.Title == "Pushed, not polled" {
				return true
			}
		}
		return false
	})
}

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	orig := "# my sources\nsources:\n  - name: go-blog   # the Go team\n    url: https://go.dev/blog/feed.atom\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	opml := filepath.Join(dir, "reader.opml")
	os.WriteFile(opml, []byte(`<?xml version="1.0"?><opml version="2.0"><head><title>My reader</title></head><body>
<outline text="Tech"><outline type="rss" text="The Go Blog" xmlUrl="https://go.dev/blog/feed.atom"/><outline type="rss" text="research!rsc" xmlUrl="https://research.swtch.com/feed.atom" htmlUrl="https://research.swtch.com/"/></outline>
</body></opml>`), 0o644)
	var out, errOut strings.Builder
	if err := Run(t.Context(), []string{"import", "-config", path, opml}, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "added research-rsc") || !strings.Contains(out.String(), "skipped https://go.dev/blog/feed.atom") {
		t.Errorf("import output:\n%s", out.String())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), orig) || !strings.Contains(string(data), "categories: [Tech]") {
		t.Errorf("feeds.yaml after import (comments and layout must stay):\n%s", data)
	}
	if err := Run(t.Context(), []string{"check", "-config", path}, io.Discard, io.Discard); err != nil {
		t.Errorf("the imported config does not check: %v", err)
	}
}

// TestWebSubGuard: WebSub requests go to URLs that strangers give us (a
// source's feed names its hub, a reader names its callback), so they go
// through the fetcher's guarded transport: a hub on a private address is
// refused before a packet is sent, unless fetch.allow_private says so.
func TestWebSubGuard(t *testing.T) {
	for _, tt := range []struct {
		name         string
		allowPrivate bool
		wantRequests int64
	}{
		{"private refused by default", false, 0},
		{"allow_private", true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int64
			hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.WriteHeader(http.StatusAccepted)
			}))
			defer hub.Close()
			p := pipelineFor(t, fmt.Sprintf("server:\n  base_url: http://127.0.0.1:1\nstorage:\n  dsn: feedmill.db\nfetch:\n  allow_private: %t\nsources:\n  - name: blog\n    url: http://127.0.0.1:1/feed.xml\n    websub: true\n", tt.allowPrivate))
			err := p.subscriber.Subscribe(t.Context(), "blog", hub.URL+"/hub", "http://127.0.0.1:1/feed.xml")
			if got := requests.Load(); got != tt.wantRequests {
				t.Errorf("the hub got %d requests, want %d (Subscribe: %v)", got, tt.wantRequests, err)
			}
			if refused := errors.Is(err, fetch.ErrNotPublic); refused != !tt.allowPrivate {
				t.Errorf("Subscribe: %v; want refused %v", err, !tt.allowPrivate)
			}
		})
	}
}

// TestExternalHubPingedForSourceFeeds: with an external hub, a refresh
// that changes a source's items pings the hub for that source's own feeds
// (rendered on request, so no rebuild names them) as well as for the
// combined feeds; a refresh that changes nothing pings nothing for it.
func TestExternalHubPingedForSourceFeeds(t *testing.T) {
	src := newMutableFeed(t)
	var mu sync.Mutex
	pinged := map[string]int{}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("hub.mode") != "publish" {
			http.Error(w, "bad ping", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, u := range r.PostForm["hub.url"] {
			pinged[u]++
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	const base = "http://feeds.example"
	p := pipelineFor(t, fmt.Sprintf("server:\n  base_url: %s\n  websub:\n    hub: %s/hub\nstorage:\n  dsn: feedmill.db\nsources:\n  - name: blog\n    url: %s\n", base, hub.URL, src.topic()))
	count := func(u string) int {
		mu.Lock()
		defer mu.Unlock()
		return pinged[u]
	}
	p.refresher.RefreshAll(t.Context(), false)
	for _, f := range []string{"rss", "atom", "json"} {
		u := base + "/sources/blog." + f
		testkit.WaitFor(t, "a ping for "+u, func() bool { return count(u) == 1 })
	}
	src.add("Another post")
	p.refresher.RefreshAll(t.Context(), false)
	testkit.WaitFor(t, "a second ping for the source's Atom feed", func() bool { return count(base+"/sources/blog.atom") == 2 })
	// Nothing changed: no ping for the source. (A ping is sent after the
	// refresh returns, so this check could miss a late one, never invent
	// one.)
	p.refresher.RefreshAll(t.Context(), false)
	if n := count(base + "/sources/blog.atom"); n != 2 {
		t.Errorf("pings for the source's feed after an unchanged refresh: %d, want 2", n)
	}
}
