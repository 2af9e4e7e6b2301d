package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestBad parses every testdata/bad/*.bad.yaml and compares the printed
// errors with the .err file beside it. The file is parsed under the name
// "feeds.yaml", so the goldens read the way `feedmill check` prints them.
func TestBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad cases found: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".bad.yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(data, "feeds.yaml")
			if c != nil {
				t.Errorf("Parse returned a config along with error %v", err)
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse error = %v (%T), want a non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.File != "feeds.yaml" {
					t.Errorf("error %q has File %q, want feeds.yaml", e.Message, e.File)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".bad.yaml") + ".err"
			testkit.Golden(t, golden, []byte(got))
		})
	}
}

// TestGoldenPairs keeps the bad cases honest: every .err has its .bad.yaml.
func TestGoldenPairs(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/bad/*.err")
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".err") + ".bad.yaml"); err != nil {
			t.Errorf("%s has no .bad.yaml beside it", g)
		}
	}
}

func TestGood(t *testing.T) {
	dir, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	defaultFetch := Fetch{
		Timeout: 30 * time.Second, MaxBody: 10 << 20, Concurrency: 8, PerHost: 2,
		FullTextLimit: 20, FullTextBudget: time.Minute,
		MinGap: time.Second, BackoffMax: 24 * time.Hour,
	}
	defaultHub := Hub{ClientPending: 10, ClientSubscriptions: 100, HostPending: 10, HostSubscriptions: 100, MaxPending: 1000, MaxSubscriptions: 10000}
	const link, window, backfill = "link", 48 * time.Hour, DefaultBackfill
	tests := []struct {
		file        string
		want        *Config
		feedSources map[string][]string
	}{
		{
			file: "minimal.yaml",
			want: &Config{
				Server:   Server{Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", WebSub: "builtin"},
				Storage:  Storage{Driver: "sqlite", DSN: filepath.Join(dir, "feedmill.db"), Lease: feed.DefaultLease, Poll: DefaultPoll},
				Schedule: "*/15 * * * *",
				Fetch:    defaultFetch,
				Hub:      defaultHub,
				Sources: []Source{
					{Name: "go-blog", URL: "https://go.dev/blog/feed.atom", Retention: 500, Line: 3},
				},
				Feeds: []Feed{{
					Name: "all", Title: "feedmill: all sources", Description: "Items from 1 source",
					Sources: []string{"*"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window,
				}},
			},
			feedSources: map[string][]string{"all": {"go-blog"}},
		},
		{
			file: "full.yaml",
			want: &Config{
				Server: Server{Listen: "0.0.0.0:9090", BaseURL: "https://feeds.example.com/mill", WebSub: "https://hub.example.net/"},
				Storage: Storage{
					Driver: "sqlite",
					DSN:    "file:" + filepath.ToSlash(filepath.Join(dir, "data/mill.db")) + "?_pragma=busy_timeout(5000)",
					Lease:  10 * time.Minute,
					Poll:   2500 * time.Millisecond,
				},
				Schedule: "@hourly",
				Fetch: Fetch{
					Timeout: 90 * time.Second, MaxBody: 512 << 10, Concurrency: 4, PerHost: 1,
					UserAgent:     "feedmill-test/1.0 (+https://feeds.example.com/)",
					FullTextLimit: 1000, FullTextBudget: 150 * time.Second,
					MinGap: 0, AllowPrivate: true, BackoffMax: 7 * 24 * time.Hour,
				},
				Hub: Hub{
					ClientPending: 5, ClientSubscriptions: 50, HostPending: 6, HostSubscriptions: 60,
					MaxPending: 500, MaxSubscriptions: 5000,
				},
				TrackingParams: []string{"utm_*", "fbclid", "mc.cid", "_hs-enc"},
				Sources: []Source{
					{
						Name: "go-blog", URL: "https://go.dev/blog/feed.atom", Title: "The Go Blog",
						Categories: []string{"go", "tech"}, Schedule: "@every 30m", Retention: 1000,
						FullText: true,
						Content: feed.ContentRules{
							Select: "article .body",
							Remove: []string{".donate", ".newsletter", "aside"},
						},
						Rewrites: []feed.Rewrite{
							{Field: "title", Pattern: "^BREAKING: ", Replace: ""},
							{Field: "summary", Pattern: "(?i)read more"},
							{Field: "content", Pattern: `src="//(\w+)`, Replace: `src="https://$1`},
						},
						Priority: 10,
						WebSub:   true,
						Line:     26,
					},
					{Name: "Example_Source.2", URL: "HTTP://Example.COM:8443/rss?format=xml#top", Retention: 1, Priority: -3, IgnoreCache: true, Line: 46},
				},
				Feeds: []Feed{
					{
						Name: "everything.v2", Title: "Everything", Description: "All of it",
						Sources: []string{"*"},
						Include: []string{`(?i)\bgo\b`, "release"}, Exclude: []string{"(?i)^sponsored:"},
						MaxAge: 60 * time.Hour, PerSourceLimit: 5, Backfill: BackfillAll,
						Limit: 10000, Dedupe: "title", DedupeWindow: 6 * time.Hour, Line: 52,
					},
					{
						Name: "go_only", Title: "go_only", Description: "Items from 1 source",
						Categories: []string{"go"}, MaxAge: 36 * time.Hour, PerSourceLimit: MaxRetention, Backfill: 0,
						Limit: 1, Dedupe: "link", DedupeWindow: time.Second, Line: 64,
					},
				},
			},
			feedSources: map[string][]string{
				"everything.v2": {"go-blog", "Example_Source.2"},
				"go_only":       {"go-blog"},
			},
		},
		{
			file: "selection.yaml",
			want: &Config{
				Server:   Server{Listen: ":8081", BaseURL: "http://localhost:8081", WebSub: "builtin"},
				Storage:  Storage{Driver: "sqlite", DSN: filepath.Join(dir, "feedmill.db"), Lease: feed.DefaultLease, Poll: DefaultPoll},
				Schedule: "*/15 * * * *",
				Fetch:    defaultFetch,
				Hub:      defaultHub,
				Sources: []Source{
					{Name: "a", URL: "http://a.example/feed", Categories: []string{"x"}, Retention: 500, Line: 6},
					{Name: "b", URL: "http://b.example/feed", Categories: []string{"y", "x"}, Retention: 500, Line: 9},
					{Name: "c", URL: "http://c.example/feed", Retention: 500, Line: 12},
					{Name: "d", URL: "http://d.example/feed", Categories: []string{"z"}, Retention: 500, Line: 14},
				},
				Feeds: []Feed{
					{Name: "star", Title: "star", Description: "Items from 4 sources", Sources: []string{"*", "c"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window, Line: 18},
					{Name: "by-category", Title: "by-category", Description: "Items from 2 sources", Categories: []string{"x"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window, Line: 20},
					{Name: "union", Title: "union", Description: "Items from 3 sources", Sources: []string{"d", "c"}, Categories: []string{"y"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window, Line: 22},
					{Name: "one", Title: "one", Description: "Items from 1 source", Sources: []string{"c", "c"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window, Line: 25},
					{Name: "globs", Title: "globs", Description: "Items from 3 sources", Sources: []string{"[c-z]", "b*", "d"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window, Line: 27},
				},
			},
			feedSources: map[string][]string{
				"star":        {"a", "b", "c", "d"},
				"by-category": {"a", "b"},
				"union":       {"b", "c", "d"},
				"one":         {"c"},
				"globs":       {"b", "c", "d"},
			},
		},
		{
			file: "rules.yaml",
			want: &Config{
				Server:   Server{Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", WebSub: "builtin"},
				Storage:  Storage{Driver: "sqlite", DSN: filepath.Join(dir, "feedmill.db"), Lease: feed.DefaultLease, Poll: DefaultPoll},
				Schedule: "*/15 * * * *",
				Fetch: Fetch{
					Timeout: 30 * time.Second, MaxBody: 10 << 20, Concurrency: 8, PerHost: 2,
					FullTextLimit: 0, FullTextBudget: time.Minute,
					MinGap: time.Second, BackoffMax: 24 * time.Hour,
				},
				Hub:            defaultHub,
				TrackingParams: []string{},
				Sources: []Source{
					{
						Name: "rules", URL: "https://news.example/rss", Retention: 500,
						Content: feed.ContentRules{Remove: []string{
							"figure > figcaption", `p:contains("Support us")`, "[data-ad], .promo:not(.story)",
						}},
						Rewrites: []feed.Rewrite{
							{Field: "content", Pattern: `(?P<word>\w+)-(\d+)`, Replace: "${word}_$2 costs $$5, ${1}x, $ and $-"},
							{Field: "content", Pattern: `\s+$`},
							{Field: "title", Pattern: `(\d)`, Replace: "$0$1"},
						},
						Line: 9,
					},
					{Name: "nulls", URL: "https://b.example/rss", Retention: 500, Line: 25},
					{
						Name: "empty", URL: "https://c.example/rss", Retention: 500,
						Content: feed.ContentRules{Select: "main", Remove: []string{}}, Line: 31,
					},
				},
				Feeds: []Feed{{
					Name: "all", Title: "all", Description: "Items from 3 sources",
					Sources: []string{"*"}, Backfill: backfill, Limit: 50, Dedupe: "title", DedupeWindow: window, Line: 36,
				}},
			},
			feedSources: map[string][]string{"all": {"rules", "nulls", "empty"}},
		},
		{
			file: "aliases.yaml",
			want: &Config{
				Server:   Server{Listen: "[::]:8082", BaseURL: "http://localhost:8082", WebSub: "builtin"},
				Storage:  Storage{Driver: "postgres", DSN: "postgres://feedmill@127.0.0.1/feedmill?sslmode=disable", Lease: feed.DefaultLease, Poll: DefaultPoll},
				Schedule: "*/15 * * * *",
				Fetch:    defaultFetch,
				Hub:      defaultHub,
				Sources: []Source{
					{Name: "one", URL: "http://127.0.0.1:8000/feed.xml", Title: "2024", Categories: []string{"local", "test"}, Retention: 500, Line: 12},
					{Name: "two", URL: "http://127.0.0.1:8000/feed.xml", Categories: []string{"local", "test"}, Retention: 500, Line: 16},
				},
				Feeds: []Feed{{
					Name: "all", Title: "feedmill: all sources", Description: "Items from 2 sources",
					Sources: []string{"*"}, Backfill: backfill, Limit: 50, Dedupe: link, DedupeWindow: window,
				}},
			},
			feedSources: map[string][]string{"all": {"one", "two"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata/good", tt.file)
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.want.Path = path
			if !reflect.DeepEqual(c, tt.want) {
				t.Errorf("Load(%s)\n got %+v\nwant %+v", path, c, tt.want)
			}
			for _, f := range c.Feeds {
				if got, want := c.FeedSources(f), tt.feedSources[f.Name]; !reflect.DeepEqual(got, want) {
					t.Errorf("FeedSources(%s) = %q, want %q", f.Name, got, want)
				}
			}
		})
	}
}

// TestShippedExample keeps the feeds.yaml a newcomer runs first working.
func TestShippedExample(t *testing.T) {
	c, err := Load("../../feeds.yaml")
	if err != nil {
		t.Fatalf("the shipped feeds.yaml does not load:\n%v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Server.Listen, "127.0.0.1:8080"},
		{"base_url", c.Server.BaseURL, "http://localhost:8080"},
		{"dsn", c.Storage.DSN, filepath.Join(root, "feedmill.db")},
		{"source count", len(c.Sources), 5},
		{"feeds", []string{c.Feeds[0].Name, c.Feeds[1].Name}, []string{"all", "golang"}},
		{"all selects", len(c.FeedSources(c.Feeds[0])), 5},
		{"golang selects", c.FeedSources(c.Feeds[1]), []string{"go-blog", "research-swtch"}},
		{"xkcd schedule", c.DomainSources()[2].Schedule, "0 */6 * * *"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	for _, s := range c.Sources {
		if s.Categories == nil {
			t.Errorf("source %s has no category; the example should show them", s.Name)
		}
	}
}

// TestReadmeExample keeps the feeds.yaml examples valid: the short one on
// the README's front page, and the reference with every key in
// docs/configuration.md, whose values must be the ones it documents.
func TestReadmeExample(t *testing.T) {
	if _, err := Parse([]byte(yamlExample(t, "../../README.md", "## feeds.yaml")), "README.md"); err != nil {
		t.Fatalf("the README's feeds.yaml example does not parse:\n%v", err)
	}
	c, err := Parse([]byte(yamlExample(t, "../../docs/configuration.md", "## Every key")), "configuration.md")
	if err != nil {
		t.Fatalf("the feeds.yaml reference in docs/configuration.md does not parse:\n%v", err)
	}
	s, f := c.Sources[0], c.Feeds[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"full_text_limit", c.Fetch.FullTextLimit, feed.DefaultFullTextLimit},
		{"full_text_budget", c.Fetch.FullTextBudget, feed.DefaultFullTextBudget},
		{"full_text", s.FullText, true},
		{"rewrite field", s.Rewrites[0].Field, feed.FieldTitle},
		{"priority", s.Priority, 10},
		{"dedupe", f.Dedupe, DedupeLink},
		{"dedupe_window", f.DedupeWindow, DefaultDedupeWindow},
		{"websub hub", c.Server.WebSub, WebSubBuiltin},
		{"source websub", s.WebSub, false},
		{"include", len(f.Include), 0},
		{"exclude", f.Exclude, []string{"(?i)^(sponsored|advert)"}},
		{"max_age", f.MaxAge, 30 * 24 * time.Hour},
		{"per_source_limit", f.PerSourceLimit, 0},
		{"backfill", f.Backfill, DefaultBackfill},
		{"min_gap", c.Fetch.MinGap, feed.DefaultMinGap},
		{"backoff_max", c.Fetch.BackoffMax, feed.DefaultBackoffMax},
		{"allow_private", c.Fetch.AllowPrivate, false},
		{"respect_cache", s.IgnoreCache, false},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

// yamlExample returns the first yaml code block of the Markdown file at
// path that follows heading.
func yamlExample(t *testing.T, path, heading string) string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n"+heading+"\n")
	_, rest, opened := strings.Cut(section, "```yaml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !opened || !closed {
		t.Fatalf("%s has no yaml block under its %q heading", path, heading)
	}
	return block
}

func TestLoadNamesFileAsGiven(t *testing.T) {
	path := "testdata/bad/../bad/bad-url.bad.yaml"
	_, err := Load(path)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error = %v, want Errors", err)
	}
	want := path + `:3: sources[0].url: not an absolute http(s) URL: "/blog/feed.atom" (relative)`
	if got := errs[0].Error(); got != want {
		t.Errorf("first error = %q, want %q", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want an fs.ErrNotExist", err)
	}
	var errs Errors
	if errors.As(err, &errs) {
		t.Errorf("a read failure came back as Errors: %v", err)
	}
}

func TestDomainSources(t *testing.T) {
	c, err := Parse([]byte(`
schedule: "@every 20m"
sources:
  - name: a
    url: https://a.example/feed
    categories: [x]
  - name: b
    url: https://b.example/feed
    schedule: "@daily"
    retention: 7
    full_text: true
    content: {select: article, remove: [.donate]}
    rewrite:
      - pattern: "^Ad: "
      - field: title
        pattern: " [|] Example News$"
        replace: ""
    priority: -2
    respect_cache: false
`), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := c.DomainSources()
	want := []feed.Source{
		{Name: "a", URL: "https://a.example/feed", Categories: []string{"x"}, Schedule: "@every 20m", Retention: 500},
		{
			Name: "b", URL: "https://b.example/feed", Schedule: "@daily", Retention: 7,
			FullText: true,
			Content:  feed.ContentRules{Select: "article", Remove: []string{".donate"}},
			Rewrites: []feed.Rewrite{
				{Field: feed.FieldContent, Pattern: "^Ad: "},
				{Field: feed.FieldTitle, Pattern: " [|] Example News$"},
			},
			Priority:    -2,
			IgnoreCache: true,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DomainSources\n got %+v\nwant %+v", got, want)
	}
	got[0].Categories[0] = "changed"
	got[1].Content.Remove[0] = "changed"
	got[1].Rewrites[0].Pattern = "changed"
	if c.Sources[0].Categories[0] != "x" || c.Sources[1].Content.Remove[0] != ".donate" || c.Sources[1].Rewrites[0].Pattern != "^Ad: " {
		t.Error("DomainSources shares a slice with the Config")
	}
	// The default field must count as content in the cache key, or an
	// article extracted under other rewrites would be served as current.
	if got, other := want[1].RulesKey(), (feed.Source{Content: want[1].Content}).RulesKey(); got == other {
		t.Error("RulesKey ignores a rewrite with the default field")
	}
}

// TestReplaceTemplates pins the regexp.Expand readings that checkReplace
// mirrors: a name runs as far as letters, digits and '_' go, a "$" that
// starts no name is kept, and a missing group expands to nothing, which is
// why the check refuses it.
func TestReplaceTemplates(t *testing.T) {
	tests := []struct {
		name, pattern, replace string
		expanded               string // Expand of the first match in "ab-12"
		problem                string // substring of checkReplace's answer; "" for none
	}{
		{"number", `(\w+)-(\d+)`, "$2:$1", "12:ab", ""},
		{"whole match", `\d+`, "<$0>", "<12>", ""},
		{"braces end a name", `(\d+)`, "${1}st", "12st", ""},
		{"name swallows letters", `(\d+)`, "$1st", "", "refers to group $1st, which the pattern does not have (write ${1}st for group 1"},
		{"name swallows underscore", `(\d+)`, "$1_x", "", "refers to group $1_x"},
		{"named group", `(?P<n>\d+)`, "$n.${n}", "12.12", ""},
		{"named group by number", `(?P<n>\d+)`, "$1", "12", ""},
		{"unknown name", `(\d+)`, "$num", "", "refers to group $num, which the pattern does not have"},
		{"unknown name in braces", `(\d+)`, "${num}x", "x", "refers to group ${num}"},
		{"number too high", `(\d+)`, "$2", "", "refers to group $2, but the pattern has 1 group"},
		{"no groups", `\d+`, "$1", "", "but the pattern has no groups"},
		{"leading zero is a name", `(\d+)`, "$01", "", "refers to group $01"},
		{"dollar dollar", `\d+`, "$$1", "$1", ""},
		{"lone dollar", `\d+`, "5 $", "5 $", ""},
		{"dollar before punctuation", `\d+`, "$-$.", "$-$.", ""},
		{"unclosed brace", `\d+`, "${1", "${1", ""},
		{"empty braces", `\d+`, "${}", "${}", ""},
		{"first problem only", `(a)`, "$2 $3", " ", "refers to group $2,"},
		{"non-ASCII letters in a name", `(\d+)`, "$1é", "", "write ${1}é for group 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, problem := compilePattern(tt.pattern)
			if problem != "" {
				t.Fatal(problem)
			}
			src := "ab-12"
			m := re.FindStringSubmatchIndex(src)
			if m == nil {
				t.Fatalf("%q does not match %q", tt.pattern, src)
			}
			if got := string(re.ExpandString(nil, tt.replace, src, m)); got != tt.expanded {
				t.Errorf("Expand(%q) = %q, want %q", tt.replace, got, tt.expanded)
			}
			got := checkReplace(re, tt.replace)
			if tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
				t.Errorf("checkReplace(%q, %q) = %q, want %q", tt.pattern, tt.replace, got, tt.problem)
			}
		})
	}
}

// TestSelectors pins what the CSS selector parser goquery uses accepts, so
// an upgrade that changes it shows here rather than as rules that quietly
// stop matching.
func TestSelectors(t *testing.T) {
	tests := []struct {
		sel string
		ok  bool
	}{
		{"article .body", true},
		{" main ", true},
		{"div > p:nth-child(2n+1)", true},
		{".a, .b", true},
		{`[data-x="y"]`, true},
		{`p:contains("Support us")`, true},
		{"*", true},
		{"section:not(.story)", true},
		{"", false},
		{"div >", false},
		{"a::before", false},
		{":foo", false},
		{"p:has(> img)", false},
		{"div, , p", false},
		{"[data-x", false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			problem := checkSelector(tt.sel)
			if (problem == "") != tt.ok {
				t.Errorf("checkSelector(%q) = %q, want ok=%v", tt.sel, problem, tt.ok)
			}
		})
	}
}

func TestTrackingParams(t *testing.T) {
	tests := map[string]bool{
		"utm_*": true, "fbclid": true, "mc.cid": true, "_hs-enc": true, "A1": true,
		"*": false, "**": false, "utm_**": false, "": false, "utm source": false,
		"a*b": false, "*utm": false, "ref=": false, "é": false,
	}
	for name, want := range tests {
		if got := validTrackingParam(name); got != want {
			t.Errorf("validTrackingParam(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestSecretParams pins that fetch.secret_params adds to the default
// secret parameter names, which the config's Redactor then hides.
func TestSecretParams(t *testing.T) {
	c, err := Parse([]byte(`fetch:
  secret_params: [session, X-Customer-Id]
sources:
  - name: a
    url: https://a.example/feed?session=S1&x_customer_id=C1&token=T1&page=2
`), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"session", "X-Customer-Id"}; !reflect.DeepEqual(c.Fetch.SecretParams, want) {
		t.Errorf("SecretParams = %q, want %q", c.Fetch.SecretParams, want)
	}
	want := "https://a.example/feed?session=xxxxx&x_customer_id=xxxxx&token=xxxxx&page=2"
	if got := c.Redactor().URL(c.Sources[0].URL); got != want {
		t.Errorf("Redactor().URL = %q, want %q", got, want)
	}
}

func TestErrorFormat(t *testing.T) {
	errs := Errors{
		{File: "feeds.yaml", Line: 12, Message: "sources[3].url: not an absolute http(s) URL"},
		{File: "feeds.yaml", Message: "invalid YAML: control characters are not allowed"},
	}
	want := "feeds.yaml:12: sources[3].url: not an absolute http(s) URL\n" +
		"feeds.yaml: invalid YAML: control characters are not allowed"
	if got := errs.Error(); got != want {
		t.Errorf("Errors.Error() =\n%s\nwant\n%s", got, want)
	}
}

// TestAliasBomb pins that a file which names one list through aliases over
// and over costs a bounded amount of work and says why it was refused.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &c [")
	for i := range 2000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("a")
	}
	b.WriteString("]\ns: &s {name: a, url: 'http://a.example/', categories: *c}\nsources: [")
	for i := range 2000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*s")
	}
	b.WriteString("]\n")
	_, err := Parse([]byte(b.String()), "feeds.yaml")
	if err == nil || !strings.Contains(err.Error(), "too deeply aliased") {
		t.Fatalf("Parse of an alias bomb = %v, want the node budget error", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n > 10 {
		t.Errorf("alias bomb produced %d error lines; the budget error should stop the run", n)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1048576", want: 1 << 20},
		{in: "10MiB", want: 10 << 20},
		{in: "10 MiB", want: 10 << 20},
		{in: "10mib", want: 10 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "2KB", want: 2000},
		{in: "3MB", want: 3_000_000},
		{in: "1GiB", want: 1 << 30},
		{in: "1GB", want: 1_000_000_000},
		{in: "42B", want: 42},
		{in: "0", want: 0},
		{in: "", bad: true},
		{in: "MiB", bad: true},
		{in: "1.5MiB", bad: true},
		{in: "-1", bad: true},
		{in: "10 MegaBytes", bad: true},
		{in: "10TiB", bad: true},
		{in: "9223372036854775807", want: 1<<63 - 1},
		{in: "9223372036854775808", bad: true},
		{in: "9007199254740992KiB", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.bad {
				if err == nil {
					t.Errorf("parseSize(%q) = %d, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSQLiteDSN(t *testing.T) {
	dir := filepath.FromSlash("/srv/feed mill")
	abs := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	tests := []struct {
		name, dsn, want string
	}{
		{"relative", "feedmill.db", abs("feedmill.db")},
		{"relative subdir", "data/feedmill.db", abs("data/feedmill.db")},
		{"dot-dot", "../feedmill.db", abs("../feedmill.db")},
		{"query kept", "feedmill.db?_pragma=journal_mode(WAL)", abs("feedmill.db") + "?_pragma=journal_mode(WAL)"},
		{"absolute", "/var/lib/feedmill.db", "/var/lib/feedmill.db"},
		{"memory", ":memory:", ":memory:"},
		{"uri relative", "file:feedmill.db?cache=shared", "file:" + filepath.ToSlash(abs("feedmill.db")) + "?cache=shared"},
		{"uri absolute", "file:///var/lib/feedmill.db", "file:///var/lib/feedmill.db"},
		{"uri memory", "file::memory:", "file::memory:"},
		{"uri mode memory", "file:db1?mode=memory&cache=shared", "file:db1?mode=memory&cache=shared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sqliteDSN(tt.dsn, dir); got != tt.want {
				t.Errorf("sqliteDSN(%q, %q) = %q, want %q", tt.dsn, dir, got, tt.want)
			}
		})
	}
	if got, want := sqliteDSN("file:db", "/a%b?c#d"), "file:/a%25b%3fc%23d/db"; got != want {
		t.Errorf("URI escaping: got %q, want %q", got, want)
	}
}

func TestBaseURLFor(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:8080":     "http://127.0.0.1:8080",
		":8080":              "http://localhost:8080",
		"0.0.0.0:80":         "http://localhost:80",
		"[::]:8080":          "http://localhost:8080",
		"[::1]:8080":         "http://[::1]:8080",
		"[fe80::1%eth0]:443": "http://[fe80::1%25eth0]:443",
		"feeds.lan:9000":     "http://feeds.lan:9000",
	}
	for listen, want := range tests {
		if got := baseURLFor(listen); got != want {
			t.Errorf("baseURLFor(%q) = %q, want %q", listen, got, want)
		}
	}
}

// TestCronAccepts pins the cron.ParseStandard behaviour the schedule rule
// relies on: what is accepted, and that the minimum interval is enforced.
func TestCronAccepts(t *testing.T) {
	tests := []struct {
		spec string
		ok   bool
	}{
		{"*/15 * * * *", true},
		{"* * * * *", true},
		{"0 9 * * 1-5", true},
		{"@hourly", true},
		{"@midnight", true},
		{"@every 1m", true},
		{"@every 1h30m", true},
		{"TZ=UTC 0 6 * * *", true},
		{"CRON_TZ=UTC @daily", true},
		{"0 0 29 2 *", true}, // leap days only, but it does fire
		{"@every 59s", false},
		{"@every 0s", false},
		{"@reboot", false},
		{"0 0 31 4 *", false}, // April has 30 days
		{"* * * * * *", false},
		{"TZ=", false},
		{"CRON_TZ=UTC", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			problem := checkSchedule(tt.spec)
			if (problem == "") != tt.ok {
				t.Errorf("checkSchedule(%q) = %q, want ok=%v", tt.spec, problem, tt.ok)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	seeds = append(seeds, "../../feeds.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "feeds.yaml")
		if err != nil {
			var errs Errors
			if c != nil || !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse = %v, %v (%T): want nil and a non-empty Errors", c, err, err)
			}
			return
		}
		if len(c.Sources) == 0 || len(c.Feeds) == 0 {
			t.Fatalf("valid config without sources or feeds: %+v", c)
		}
		if strings.HasSuffix(c.Server.BaseURL, "/") {
			t.Errorf("BaseURL %q ends in a slash", c.Server.BaseURL)
		}
		for _, fd := range c.Feeds {
			if len(c.FeedSources(fd)) == 0 {
				t.Errorf("feed %q selects no source but passed validation", fd.Name)
			}
		}
		for _, s := range c.DomainSources() {
			if checkSchedule(s.Schedule) != "" || s.Keep() < 1 {
				t.Errorf("source %q resolved to schedule %q, retention %d", s.Name, s.Schedule, s.Retention)
			}
			for _, sel := range append([]string{s.Content.Select}, s.Content.Remove...) {
				if sel != "" && checkSelector(sel) != "" {
					t.Errorf("source %q kept the invalid selector %q", s.Name, sel)
				}
			}
			for _, r := range s.Rewrites {
				re, problem := compilePattern(r.Pattern)
				if problem != "" || r.Pattern == "" || checkReplace(re, r.Replace) != "" {
					t.Errorf("source %q kept the bad rewrite %+v", s.Name, r)
				}
			}
		}
		for _, name := range c.TrackingParams {
			if !validTrackingParam(name) {
				t.Errorf("invalid tracking parameter %q passed validation", name)
			}
		}
		if f := c.Fetch; f.MinGap < 0 || f.MinGap > MaxMinGap || f.BackoffMax < MinBackoffMax || f.BackoffMax > MaxBackoffMax {
			t.Errorf("min_gap %s, backoff_max %s passed validation", f.MinGap, f.BackoffMax)
		}
		if c.Fetch.FullTextBudget <= 0 || c.Fetch.FullTextLimit < 0 {
			t.Errorf("full text limits %d, %s passed validation", c.Fetch.FullTextLimit, c.Fetch.FullTextBudget)
		}
		if w := c.Server.WebSub; w != WebSubBuiltin && w != WebSubOff && checkFeedURL(w, feed.Redactor{}) != "" {
			t.Errorf("websub hub %q passed validation", w)
		}
		for _, fd := range c.Feeds {
			if fd.MaxAge < 0 || fd.PerSourceLimit < 0 || fd.Backfill < BackfillAll {
				t.Errorf("feed %q passed with max_age %s, per_source_limit %d, backfill %d", fd.Name, fd.MaxAge, fd.PerSourceLimit, fd.Backfill)
			}
			if include, exclude := fd.Patterns(); len(include) != len(fd.Include) || len(exclude) != len(fd.Exclude) {
				t.Errorf("feed %q kept a pattern that does not compile: %q %q", fd.Name, fd.Include, fd.Exclude)
			}
			for _, sel := range fd.Sources {
				if len(c.FeedSources(Feed{Sources: []string{sel}})) == 0 {
					t.Errorf("feed %q names %q, which selects no source", fd.Name, sel)
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../../feeds.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(data, "feeds.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseAge(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "0", want: 0},
		{in: "0d", want: 0},
		{in: "30d", want: 30 * day},
		{in: "2d12h", want: 60 * time.Hour},
		{in: "1d1h1m1s", want: day + time.Hour + time.Minute + time.Second},
		{in: "36h", want: 36 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "+1d", want: day},
		{in: "-1d", want: -day},
		{in: "-1d12h", want: -36 * time.Hour},
		{in: "106751d", want: 106751 * day},
		{in: "", err: "not a duration"},
		{in: "30", err: "not a duration"},
		{in: "d", err: "not a duration"},
		{in: "1.5d", err: "not a duration"},
		{in: "1h2d", err: "not a duration"},
		{in: "2d-3h", err: "not a duration"},
		{in: "--1d", err: "not a duration"},
		{in: "1dd", err: "not a duration"},
		{in: " 1d", err: "not a duration"},
		{in: "30 days", err: "not a duration"},
		{in: "106752d", err: "duration too large"},
		{in: "106751d24h", err: "duration too large"},
		{in: "99999999999999999999d", err: "duration too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAge(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("parseAge(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseAge(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPatterns(t *testing.T) {
	c, err := Parse([]byte(`
sources:
  - {name: a, url: "https://a.example/feed"}
feeds:
  - name: go
    sources: [a]
    include: ['(?i)\bgo\b', 'golang']
    exclude: ['^Sponsored:']
  - name: plain
    sources: [a]
`), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	include, exclude := c.Feeds[0].Patterns()
	if len(include) != 2 || len(exclude) != 1 {
		t.Fatalf("Patterns = %d include, %d exclude; want 2 and 1", len(include), len(exclude))
	}
	matches := []struct {
		re   int
		text string
		want bool
	}{
		{0, "Go 1.26 is out", true},
		{0, "Let's GO!", true},
		{0, "Gopher news", false},
		{1, "golang.org moves", true},
	}
	for _, m := range matches {
		if got := include[m.re].MatchString(m.text); got != m.want {
			t.Errorf("include[%d] (%s) on %q = %v, want %v", m.re, include[m.re], m.text, got, m.want)
		}
	}
	if !exclude[0].MatchString("Sponsored: buy") || exclude[0].MatchString("Not Sponsored: x") {
		t.Errorf("exclude %s matches wrongly", exclude[0])
	}
	if include, exclude := c.Feeds[1].Patterns(); include != nil || exclude != nil {
		t.Errorf("a feed without filters has patterns %v, %v", include, exclude)
	}
	// A Feed built by hand may hold patterns validation never saw.
	hand := Feed{Include: []string{"(", "ok", ""}, Exclude: []string{"[z-a]"}}
	if include, exclude := hand.Patterns(); len(include) != 1 || include[0].String() != "ok" || len(exclude) != 0 {
		t.Errorf("hand-built Patterns = %v, %v; want only \"ok\"", include, exclude)
	}
}

func TestWebSubHub(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"", WebSubBuiltin},
		{"server: {websub: {hub: builtin}}\n", WebSubBuiltin},
		{"server: {websub: {hub: off}}\n", WebSubOff},
		{"server: {websub: {hub: 'https://pubsubhubbub.example/?x=1'}}\n", "https://pubsubhubbub.example/?x=1"},
		{"server: {websub: {hub: 'http://127.0.0.1:9000/hub'}}\n", "http://127.0.0.1:9000/hub"},
		{"server: {websub: }\n", WebSubBuiltin},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml+"sources: [{name: a, url: 'https://a.example/', websub: true}]\n"), "feeds.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if c.Server.WebSub != tt.want || !c.Sources[0].WebSub {
				t.Errorf("WebSub = %q, source websub %v; want %q, true", c.Server.WebSub, c.Sources[0].WebSub, tt.want)
			}
		})
	}
}

// TestPoliteness pins the fetch settings of a polite client: their
// defaults, the bounds the messages promise (0 to 10m, 1m to 30d), and
// that respect_cache reaches the pipeline inverted as IgnoreCache.
func TestPoliteness(t *testing.T) {
	tests := []struct {
		name        string
		yaml        string
		minGap      time.Duration
		private     bool
		backoffMax  time.Duration
		ignoreCache bool
	}{
		{"defaults", "", time.Second, false, 24 * time.Hour, false},
		{"no gap", "fetch: {min_gap: 0s}\n", 0, false, 24 * time.Hour, false},
		{"bare zero gap", "fetch: {min_gap: 0}\n", 0, false, 24 * time.Hour, false},
		{"upper bounds", "fetch: {min_gap: 10m, backoff_max: 30d}\n", MaxMinGap, false, MaxBackoffMax, false},
		{"lower bound", "fetch: {backoff_max: 1m}\n", time.Second, false, MinBackoffMax, false},
		{"days and hours", "fetch: {backoff_max: 1d12h}\n", time.Second, false, 36 * time.Hour, false},
		{"private", "fetch: {allow_private: true}\n", time.Second, true, 24 * time.Hour, false},
		{"respect cache", "respect: true\n", time.Second, false, 24 * time.Hour, false},
		{"ignore cache", "respect: false\n", time.Second, false, 24 * time.Hour, true},
		{"null settings", "fetch: {min_gap: , backoff_max: ~}\nrespect: ~\n", time.Second, false, 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, respect, _ := strings.Cut(tt.yaml, "respect:")
			src := "sources:\n  - name: a\n    url: https://a.example/feed\n"
			if respect != "" {
				src += "    respect_cache:" + respect
			}
			c, err := Parse([]byte(top+src), "feeds.yaml")
			if err != nil {
				t.Fatal(err)
			}
			f := c.Fetch
			if f.MinGap != tt.minGap || f.AllowPrivate != tt.private || f.BackoffMax != tt.backoffMax {
				t.Errorf("min_gap %s, allow_private %v, backoff_max %s; want %s, %v, %s",
					f.MinGap, f.AllowPrivate, f.BackoffMax, tt.minGap, tt.private, tt.backoffMax)
			}
			if got := c.Sources[0].IgnoreCache; got != tt.ignoreCache {
				t.Errorf("Source.IgnoreCache = %v, want %v", got, tt.ignoreCache)
			}
			if got := c.DomainSources()[0].IgnoreCache; got != tt.ignoreCache {
				t.Errorf("feed.Source.IgnoreCache = %v, want %v", got, tt.ignoreCache)
			}
		})
	}
}

func TestFormatAge(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{30 * time.Second, "30s"},
		{23 * time.Hour, "23h0m0s"},
		{24 * time.Hour, "1d"},
		{30*24*time.Hour + time.Second, "30d1s"},
		{36 * time.Hour, "1d12h0m0s"},
		{-time.Hour, "-1h0m0s"},
	}
	for _, tt := range tests {
		if got := formatAge(tt.in); got != tt.want {
			t.Errorf("formatAge(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestItemRules loads sources without a feed: their type and item rules
// reach the domain sources, each source with its own copy of the rules.
func TestItemRules(t *testing.T) {
	cfg, err := Load("testdata/good/scraped.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.DomainSources()
	want := []struct {
		typ   string
		items *feed.ItemRules
	}{
		{feed.TypeHTML, &feed.ItemRules{Each: "article.teaser", Title: "h2", Link: "h2 a@href", Date: "time@datetime", DateFormat: "2006-01-02", Summary: "p.lede", Image: "img@src"}},
		{feed.TypeHTML, nil},
		{feed.TypeJSON, &feed.ItemRules{Each: "data.posts", Title: "headline", Link: "url", Date: "published_at", Content: "body_html"}},
		{feed.TypeFeed, nil},
	}
	if len(got) != len(want) {
		t.Fatalf("%d sources, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Type != w.typ || !reflect.DeepEqual(got[i].Items, w.items) {
			t.Errorf("source %s: type %q items %+v, want %q %+v", got[i].Name, got[i].Type, got[i].Items, w.typ, w.items)
		}
	}
	got[0].Items.Each = "changed"
	if cfg.DomainSources()[0].Items.Each != "article.teaser" {
		t.Error("DomainSources shares the config's item rules")
	}
}

// TestDedupeModes: every dedupe mode a feed may name, "off" read as
// "none".
func TestDedupeModes(t *testing.T) {
	tests := []struct{ mode, want string }{
		{"link", DedupeLink},
		{"title", DedupeTitle},
		{"none", DedupeNone},
		{"off", DedupeNone},
		{`"off"`, DedupeNone},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "feeds.yaml")
			yaml := "sources:\n  - name: a\n    url: https://a.example/feed\nfeeds:\n  - name: f\n    sources: [a]\n    dedupe: " + tt.mode + "\n"
			if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.Feeds[0].Dedupe; got != tt.want {
				t.Errorf("dedupe %s = %q, want %q", tt.mode, got, tt.want)
			}
		})
	}
}
