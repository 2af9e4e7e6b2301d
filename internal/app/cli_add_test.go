package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/config"
)

// site is a small web site for `feedmill add`: pages that advertise feeds
// and the feeds.
func addSite(t *testing.T) *httptest.Server {
	t.Helper()
	rss := func(title string) string {
		return `<?xml version="1.0"?><rss version="2.0"><channel><title>` + title +
			`</title><link>https://harbour.example/</link><description>d</description>` +
			`<item><title>Tides</title><link>https://harbour.example/tides</link></item></channel></rss>`
	}
	page := func(links string) string {
		return `<!doctype html><html><head><title>Harbour</title>` + links + `</head><body><p>Welcome</p></body></html>`
	}
	var srv *httptest.Server
	mux := http.NewServeMux()
	html := func(body func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, body())
		}
	}
	feedAt := func(title string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, rss(title))
		}
	}
	mux.HandleFunc("/{$}", html(func() string {
		return page(`<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="Harbour feed">`)
	}))
	mux.HandleFunc("/feed.xml", feedAt("Harbour Notes: the Weekly Log"))
	mux.HandleFunc("/go.xml", feedAt("Go Blog"))
	mux.HandleFunc("/golang.xml", feedAt("Go Blog"))
	mux.HandleFunc("/untitled.xml", feedAt(""))
	mux.HandleFunc("/plain.html", html(func() string { return page("") }))
	// A town paper's front page without a feed: a list of stories between
	// navigation and a footer.
	mux.HandleFunc("/paper/{$}", html(func() string {
		var b strings.Builder
		b.WriteString(`<!doctype html><html><head><title>Harbour Gazette</title></head><body>` +
			`<nav><a href="/paper/">Home</a> <a href="/paper/about">About</a> <a href="/paper/contact">Contact</a></nav><main>`)
		for i, story := range []string{"Ferry timetable changes for the winter", "Lighthouse reopens after two years of repairs",
			"Fish market moves to the old customs hall", "Storm damages the north pier overnight",
			"School choir wins the county festival", "New footbridge over the river opens in spring"} {
			fmt.Fprintf(&b, `<div class="story"><h2><a href="/paper/2026/12/story-%d">%s</a></h2><p>What happened in the harbour this week, told in a few lines.</p></div>`, i+1, story)
		}
		b.WriteString(`</main><footer><a href="/paper/privacy">Privacy</a></footer></body></html>`)
		return b.String()
	}))
	// A page whose first advertised feed is broken and whose second works.
	mux.HandleFunc("/two.html", html(func() string {
		return page(`<link rel="alternate" type="application/atom+xml" href="/missing.xml"><link rel="alternate" type="application/rss+xml" href="/golang.xml">`)
	}))
	mux.HandleFunc("/old.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/go.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/moved.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed.xml", http.StatusPermanentRedirect)
	})
	// A page advertising a feed on another local host name: a link in
	// content, so the address guard refuses it (only the page's own
	// host is trusted).
	mux.HandleFunc("/elsewhere.html", html(func() string {
		return page(fmt.Sprintf(`<link rel="alternate" type="application/rss+xml" href="http://localhost:%s/feed.xml">`, srv.URL[strings.LastIndex(srv.URL, ":")+1:]))
	}))
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// addConfig is a feeds.yaml laid out by hand, with comments to keep.
const addConfig = `# Our reading list.
fetch:
  min_gap: 0s   # everything is on one test host

# Sources, by topic:
sources:
  - name: go-blog     # the official one
    url: https://go.dev/blog/feed.atom
    categories: [tech]

  - name: already
    url: %s/go.xml
`

func TestAddCommand(t *testing.T) {
	site := addSite(t)
	tests := []struct {
		name     string
		args     []string // after -config
		wantCode int
		// On success: the text appended to the file and the line printed.
		wantTail, wantOut string
		// On failure: what the error says.
		wantErr []string
	}{
		{
			name:     "web page advertising its feed",
			args:     []string{"-category", "news", "-category", "harbour, town", site.URL + "/"},
			wantTail: "\n  - name: harbour-notes-the-weekly-log\n    url: " + site.URL + "/feed.xml\n    categories: [news, 'harbour, town']\n",
			wantOut:  "is a web page; it advertises the feed " + site.URL + "/feed.xml\n{path}: added source harbour-notes-the-weekly-log (" + site.URL + "/feed.xml)\n",
		},
		{
			name:     "feed with a name given",
			args:     []string{"-name", "tides", site.URL + "/feed.xml"},
			wantTail: "\n  - name: tides\n    url: " + site.URL + "/feed.xml\n",
			wantOut:  "{path}: added source tides (" + site.URL + "/feed.xml)\n",
		},
		{
			name:     "name from the title made unique",
			args:     []string{"-category", "tech", site.URL + "/two.html"},
			wantTail: "\n  - name: go-blog-2\n    url: " + site.URL + "/golang.xml\n    categories: [tech]\n",
			wantOut:  "{path}: added source go-blog-2 (" + site.URL + "/golang.xml)\n",
			wantErr:  nil,
		},
		{
			name:     "feed without a title named after its host",
			args:     []string{site.URL + "/untitled.xml"},
			wantTail: "\n  - name: 127-0-0-1\n    url: " + site.URL + "/untitled.xml\n",
			wantOut:  "{path}: added source 127-0-0-1 (" + site.URL + "/untitled.xml)\n",
		},
		{
			name:     "moved feed added where it moved",
			args:     []string{site.URL + "/moved.xml"},
			wantTail: "\n  - name: harbour-notes-the-weekly-log\n    url: " + site.URL + "/feed.xml\n",
			wantOut:  site.URL + "/moved.xml moved permanently to " + site.URL + "/feed.xml; adding the new address\n{path}: added source harbour-notes-the-weekly-log (" + site.URL + "/feed.xml)\n",
		},
		{
			name:     "moved feed already a source",
			args:     []string{"-name", "moved", site.URL + "/old.xml"},
			wantCode: 1,
			wantErr:  []string{site.URL + "/old.xml", "its feed " + site.URL + "/go.xml is already source already"},
		},
		{
			name:     "URL already a source",
			args:     []string{site.URL + "/go.xml"},
			wantCode: 1,
			wantErr:  []string{"add " + site.URL + "/go.xml", "already has it, as source already"},
		},
		{
			name:     "name already taken",
			args:     []string{"-name", "go-blog", site.URL + "/feed.xml"},
			wantCode: 1,
			wantErr:  []string{"already has a source named go-blog"},
		},
		{
			name:     "page without a feed read as a web page",
			args:     []string{"-category", "news", site.URL + "/paper/"},
			wantTail: "\n  - name: harbour-gazette\n    url: " + site.URL + "/paper/\n    categories: [news]\n    type: html\n    full_text: true\n    items:\n      each: div.story\n      title: h2\n      link: a@href\n      summary: p\n",
			wantOut:  "      summary: \"p\"\neach item's title, date, author and text come from its article page\n{path}: added source harbour-gazette (" + site.URL + "/paper/, type html, full_text: true)\n",
		},
		{
			name:     "page advertising no feed nor a listing",
			args:     []string{site.URL + "/plain.html"},
			wantCode: 1,
			wantErr:  []string{"add " + site.URL + "/plain.html", "not a web page that advertises one"},
		},
		{
			name:     "page whose feed is on another private host",
			args:     []string{site.URL + "/elsewhere.html"},
			wantCode: 1,
			wantErr:  []string{"add " + site.URL + "/elsewhere.html", "advertised feed http://localhost:", "refused to connect to a non-public address"},
		},
		{
			name:     "not found",
			args:     []string{site.URL + "/nothing.xml"},
			wantCode: 1,
			wantErr:  []string{"add " + site.URL + "/nothing.xml", "404"},
		},
		{
			name:     "not an http URL",
			args:     []string{"ftp://harbour.example/feed.xml"},
			wantCode: 2,
			wantErr:  []string{`"ftp://harbour.example/feed.xml" is not an absolute http(s) URL`},
		},
		{
			name:     "name of any form sources: takes",
			args:     []string{"-name", "Harbour_Notes.v2", site.URL + "/feed.xml"},
			wantTail: "\n  - name: Harbour_Notes.v2\n    url: " + site.URL + "/feed.xml\n",
		},
		{
			name:     "name taken in another case",
			args:     []string{"-name", "Go-Blog", site.URL + "/feed.xml"},
			wantCode: 1,
			wantErr:  []string{"already has a source named Go-Blog"},
		},
		{
			name:     "name sources: refuses",
			args:     []string{"-name", "go blog", site.URL + "/feed.xml"},
			wantCode: 2,
			wantErr:  []string{`-name: invalid name "go blog": use only letters, digits, '.', '_' and '-' (not "." or "..")`},
		},
		{
			name:     "empty category",
			args:     []string{"-category", " ", site.URL + "/feed.xml"},
			wantCode: 2,
			wantErr:  []string{"-category"},
		},
		{
			name:     "no URL",
			args:     []string{"-name", "x"},
			wantCode: 2,
			wantErr:  []string{"feedmill add takes one argument, URL"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "feeds.yaml")
			before := fmt.Sprintf(addConfig, site.URL)
			if err := os.WriteFile(path, []byte(before), 0o640); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), append([]string{"add", "-config", path}, tc.args...), &stdout, &stderr)
			if code := ExitCode(err); code != tc.wantCode {
				t.Fatalf("exit status %d (%v), want %d; stderr:\n%s", code, err, tc.wantCode, stderr.String())
			}
			after, readErr := os.ReadFile(path)
			if readErr != nil {
				t.Fatal(readErr)
			}
			if tc.wantCode != 0 {
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if string(after) != before {
					t.Errorf("the file changed on a failure:\n%s", after)
				}
				return
			}
			// Every byte of the file stays, comments included; the new
			// source is appended to the list in its layout.
			tail, kept := strings.CutPrefix(string(after), before)
			if !kept {
				t.Fatalf("the file's text was not kept:\n%s", after)
			}
			if tail != tc.wantTail {
				t.Errorf("appended\n%q\nwant\n%q", tail, tc.wantTail)
			}
			if got, want := stdout.String(), strings.ReplaceAll(tc.wantOut, "{path}", path); !strings.HasSuffix(got, want) {
				t.Errorf("printed\n%q\nwant it to end with\n%q", got, want)
			}
			info, statErr := os.Stat(path)
			if statErr != nil || info.Mode().Perm() != 0o640 {
				t.Errorf("file mode %v (%v), want 0640 kept", info.Mode().Perm(), statErr)
			}
			cfg, loadErr := config.Load(path)
			if loadErr != nil {
				t.Fatalf("the result is not a valid config: %v", loadErr)
			}
			added := cfg.Sources[len(cfg.Sources)-1]
			if len(cfg.Sources) != 3 || added.Title != "" {
				t.Errorf("sources %d, new one's title %q: want 3, no title (the feed's own is used)", len(cfg.Sources), added.Title)
			}
			wantCats := categoriesIn(tc.args)
			if !slices.Equal(added.Categories, wantCats) {
				t.Errorf("categories %q, want %q", added.Categories, wantCats)
			}
		})
	}
}

// categoriesIn returns the -category values of args.
func categoriesIn(args []string) []string {
	var cats []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-category" {
			cats = append(cats, args[i+1])
			i++
		}
	}
	return cats
}

// TestAddThenFetch adds a page's feed and fetches the config: the added
// source is one the refresher reads.
func TestAddThenFetch(t *testing.T) {
	site := addSite(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(path, []byte("storage:\n  dsn: feedmill.db\nfetch:\n  min_gap: 0s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), []string{"add", "-config", path, site.URL + "/"}, &stdout, &stderr); err != nil {
		t.Fatalf("add: %v\n%s", err, stderr.String())
	}
	stderr.Reset()
	if err := Run(t.Context(), []string{"fetch", "-config", path}, &stdout, &stderr); err != nil {
		t.Fatalf("fetch: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "1 sources: 1 with new or updated items, 0 unchanged, 0 failed") {
		t.Errorf("fetch summary:\n%s", stderr.String())
	}
}

// TestAddNameRule: `feedmill add -name` takes exactly the names that a
// source may have in feeds.yaml, and refuses the others with the config's
// own message.
func TestAddNameRule(t *testing.T) {
	site := addSite(t)
	names := []string{
		"tides", "Go_Blog", "harbour.notes", "v2-feed_1", "UPPER", "123", "-lead", "_x", "a..b", "x.rss",
		strings.Repeat("long", 20),
		"go blog", ".", "..", "café", "日本", "a/b", "tab\there", "",
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// What sources: says of the name.
			own := filepath.Join(dir, "own.yaml")
			if err := os.WriteFile(own, fmt.Appendf(nil, "sources:\n  - name: %q\n    url: https://harbour.example/feed.xml\n", name), 0o640); err != nil {
				t.Fatal(err)
			}
			var configErr string
			if _, err := config.Load(own); err != nil {
				configErr = err.Error()
			}
			if name == "" {
				configErr = "" // an empty -name asks for a name made from the title
			}

			path := filepath.Join(dir, "feeds.yaml")
			if err := os.WriteFile(path, []byte("fetch:\n  min_gap: 0s\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), []string{"add", "-config", path, "-name", name, site.URL + "/feed.xml"}, &stdout, &stderr)
			switch {
			case configErr == "" && err != nil:
				t.Errorf("sources: takes the name %q, add refuses it: %v\n%s", name, err, stderr.String())
			case configErr != "" && err == nil:
				t.Errorf("sources: refuses the name %q (%s), add takes it", name, configErr)
			case configErr != "":
				_, msg, _ := strings.Cut(configErr, "sources[0].name: ")
				if msg == "" || !strings.Contains(err.Error(), msg) || ExitCode(err) != 2 {
					t.Errorf("add -name %q: exit %d, %v; want exit 2 and the config's message %q", name, ExitCode(err), err, msg)
				}
			}
			if err != nil || name == "" {
				return
			}
			cfg, err := config.Load(path)
			if err != nil || len(cfg.Sources) != 1 || cfg.Sources[0].Name != name {
				t.Errorf("after add -name %q the config is %v, %v", name, cfg, err)
			}
		})
	}
}

func TestSourceNames(t *testing.T) {
	tests := []struct {
		title, url string
		used       []string
		want       string
	}{
		{"The Go Blog", "https://go.dev/blog/feed.atom", nil, "the-go-blog"},
		{"Café — Crème brûlée!", "https://x.example/", nil, "cafe-creme-brulee"},
		{"Joel's log", "https://x.example/", nil, "joels-log"},
		{"", "https://www.example.org/feed", nil, "example-org"},
		{"日本語", "https://blog.example/feed", nil, "blog-example"},
		{"Go", "https://x.example/", []string{"go", "GO-2"}, "go-3"},
		{strings.Repeat("long ", 20), "https://x.example/", []string{strings.TrimSuffix(strings.Repeat("long-", 8), "-")}, "long-long-long-long-long-long-long-lon-2"},
	}
	for _, tc := range tests {
		used := map[string]bool{}
		for _, u := range tc.used {
			used[strings.ToLower(u)] = true
		}
		got := config.SourceName(tc.title, tc.url, used)
		if got != tc.want {
			t.Errorf("name for %q (%s) = %q, want %q", tc.title, tc.url, got, tc.want)
		}
		if err := config.CheckSourceName(got); err != nil {
			t.Errorf("name %q is not one the config takes: %v", got, err)
		}
	}
}

// TestAddFirstSource adds a source to configs that have none yet, which
// are not valid until it is there, and refuses one whose other settings
// are wrong.
func TestAddFirstSource(t *testing.T) {
	site := addSite(t)
	feedURL := site.URL + "/go.xml"
	tests := []struct {
		name, before, want string
		wantCode           int
	}{
		{"empty file", "", "sources:\n  - name: go-blog\n    url: " + feedURL + "\n", 0},
		{"settings and comments only", "# mine\nfetch:\n  min_gap: 0s # one test host\n",
			"# mine\nfetch:\n  min_gap: 0s # one test host\n\nsources:\n  - name: go-blog\n    url: " + feedURL + "\n", 0},
		{"empty list", "fetch:\n  min_gap: 0s\nsources: []   # none yet\n",
			"fetch:\n  min_gap: 0s\nsources: # none yet\n  - name: go-blog\n    url: " + feedURL + "\n", 0},
		{"bad setting", "fetch:\n  timeout: soon\n", "", 2},
		{"not a mapping", "- a\n- b\n", "", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "feeds.yaml")
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), []string{"add", "-config", path, feedURL}, &stdout, &stderr)
			if code := ExitCode(err); code != tc.wantCode {
				t.Fatalf("exit status %d (%v), want %d; stderr:\n%s", code, err, tc.wantCode, stderr.String())
			}
			after, _ := os.ReadFile(path)
			if tc.wantCode != 0 {
				if string(after) != tc.before {
					t.Errorf("the file changed:\n%s", after)
				}
				if !strings.Contains(stderr.String(), path+":") {
					t.Errorf("the config's problems are not printed with their lines:\n%s", stderr.String())
				}
				return
			}
			if string(after) != tc.want {
				t.Errorf("file:\n%q\nwant\n%q", after, tc.want)
			}
		})
	}
}

// TestCheckAddURL checks the URLs `feedmill add` accepts: a URL typed
// without a scheme is https.
func TestCheckAddURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://blog.example/feed", "https://blog.example/feed", true},
		{" http://127.0.0.1:8080/x ", "http://127.0.0.1:8080/x", true},
		{"blog.example", "https://blog.example", true},
		{"blog.example/news?page=1", "https://blog.example/news?page=1", true},
		{"blog.example:8443/news", "https://blog.example:8443/news", true},
		{"ftp://blog.example/feed", "", false},
		{"", "", false},
		{"/feed.xml", "", false},
		{"mailto:me@blog.example", "", false},
	}
	for _, tc := range tests {
		got, err := checkAddURL(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("checkAddURL(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestAddPageThenPreview adds a front page without a feed whose listing
// has dates (so the inferred rules have a date selector) and previews the
// source as the daemon would refresh it: every story, the lead included,
// carries its article page's text, as `add` says it will.
func TestAddPageThenPreview(t *testing.T) {
	type story struct{ slug, title, date, author, body string }
	stories := []story{
		{"harbour-wall-repairs-begin", "Harbour wall repairs begin a month after the storm", "2026-12-04T07:30:00Z", "Sam Okafor", "Engineers from the county started on the damaged section of the harbour wall on Thursday morning."},
		{"school-roof-fund-reaches-target", "School roof fund reaches its target at last", "2026-12-03T16:00:00Z", "Ines Vogel", "Parents and teachers raised the last few hundred pounds at the winter fair on Saturday afternoon."},
		{"new-bus-shelter-on-quay-street", "A new bus shelter goes up on Quay Street", "2026-12-03T11:20:00Z", "Priya Nair", "The old shelter, which lost its roof in the storm, has been replaced by a larger one with a bench."},
		{"library-extends-winter-hours", "Library extends its winter opening hours", "2026-12-02T09:00:00Z", "Tom Beck", "From next week the library will stay open until seven in the evening on Tuesdays and Thursdays."},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/gazette/{$}", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<!doctype html><html><head><title>Fenwick Gazette</title></head><body>` +
			`<header><nav><a href="/gazette/">Home</a> <a href="/gazette/about">About</a></nav></header><main>`)
		for i, s := range stories {
			link := "/gazette/news/2026/12/" + s.slug
			if i == 0 {
				fmt.Fprintf(&b, `<section class="lead"><h2><a href="%s">%s</a></h2><p>The slipway stays closed to boats until the work is done in spring.</p><time datetime="%s">4 Dec</time></section><div class="cards">`, link, s.title, s.date)
				continue
			}
			fmt.Fprintf(&b, `<div class="card"><h3><a href="%s">%s</a></h3><time datetime="%s">%s</time></div>`, link, s.title, s.date, s.date[:10])
		}
		b.WriteString(`</div><div class="pagination"><a href="/gazette/page/2">Older posts</a></div></main>` +
			`<footer><a href="/gazette/privacy">Privacy</a> <a href="/gazette/contact">Contact</a></footer></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, b.String())
	})
	for _, s := range stories {
		mux.HandleFunc("/gazette/news/2026/12/"+s.slug, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title><meta name="author" content="%s"><meta property="og:type" content="article"></head>`+
				`<body><nav><a href="/gazette/">Home</a></nav><article><h1>%s</h1><p>%s</p><p>%s</p><p>%s</p></article><footer>Fenwick Gazette</footer></body></html>`,
				s.title, s.author, s.title, s.body, strings.Repeat("More of the story follows in a second paragraph of plain words. ", 3), strings.Repeat("And a third paragraph closes the article for the readers. ", 3))
		})
	}
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	path := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte("storage:\n  dsn: feedmill.db\nfetch:\n  min_gap: 0s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(t.Context(), []string{"add", "-config", path, "-name", "gazette", site.URL + "/gazette/"}, &stdout, &stderr); err != nil {
		t.Fatalf("add: %v\n%s", err, stderr.String())
	}
	added := stdout.String()
	for _, want := range []string{"finding 4 items", `date: "time@datetime"`, "each item's title, date, author and text come from its article page", "type html, full_text: true)"} {
		if !strings.Contains(added, want) {
			t.Errorf("add printed no %q:\n%s", want, added)
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if src := cfg.Sources[0]; !src.FullText || src.Items == nil || src.Items.Date == "" {
		t.Errorf("added source %+v: want full_text and items with a date", src)
	}

	stdout.Reset()
	stderr.Reset()
	if err := Run(t.Context(), []string{"preview", "-config", path, "-n", "10", "gazette"}, &stdout, &stderr); err != nil {
		t.Fatalf("preview: %v\n%s", err, stderr.String())
	}
	shown := stdout.String()
	if !strings.Contains(shown, "full text: 4 pages extracted, 0 failed") {
		t.Errorf("preview extracted no article pages:\n%s", shown)
	}
	for _, s := range stories {
		if !strings.Contains(shown, "== "+s.title) || !strings.Contains(shown, s.body) {
			t.Errorf("preview lacks %q with its article's text:\n%s", s.title, shown)
		}
	}
}
