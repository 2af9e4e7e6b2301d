package config

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

var update = flag.Bool("update", false, "rewrite the testdata/bad/*.err golden files")

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
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%swant:\n%s", golden, got, want)
			}
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
	defaultFetch := Fetch{Timeout: 30 * time.Second, MaxBody: 10 << 20, Concurrency: 8, PerHost: 2}
	tests := []struct {
		file        string
		want        *Config
		feedSources map[string][]string
	}{
		{
			file: "minimal.yaml",
			want: &Config{
				Server:   Server{Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080"},
				Storage:  Storage{Driver: "sqlite", DSN: filepath.Join(dir, "feedmill.db")},
				Schedule: "*/15 * * * *",
				Fetch:    defaultFetch,
				Sources: []Source{
					{Name: "go-blog", URL: "https://go.dev/blog/feed.atom", Retention: 500, Line: 3},
				},
				Feeds: []Feed{{
					Name: "all", Title: "feedmill: all sources", Description: "Items from 1 source",
					Sources: []string{"*"}, Limit: 50,
				}},
			},
			feedSources: map[string][]string{"all": {"go-blog"}},
		},
		{
			file: "full.yaml",
			want: &Config{
				Server: Server{Listen: "0.0.0.0:9090", BaseURL: "https://feeds.example.com/mill"},
				Storage: Storage{
					Driver: "sqlite",
					DSN:    "file:" + filepath.ToSlash(filepath.Join(dir, "data/mill.db")) + "?_pragma=busy_timeout(5000)",
				},
				Schedule: "@hourly",
				Fetch: Fetch{
					Timeout: 90 * time.Second, MaxBody: 512 << 10, Concurrency: 4, PerHost: 1,
					UserAgent: "feedmill-test/1.0 (+https://feeds.example.com/)",
				},
				Sources: []Source{
					{
						Name: "go-blog", URL: "https://go.dev/blog/feed.atom", Title: "The Go Blog",
						Categories: []string{"go", "tech"}, Schedule: "@every 30m", Retention: 1000, Line: 16,
					},
					{Name: "Example_Source.2", URL: "HTTP://Example.COM:8443/rss?format=xml#top", Retention: 1, Line: 22},
				},
				Feeds: []Feed{
					{
						Name: "everything.v2", Title: "Everything", Description: "All of it",
						Sources: []string{"*"}, Limit: 10000, Line: 26,
					},
					{
						Name: "go_only", Title: "go_only", Description: "Items from 1 source",
						Categories: []string{"go"}, Limit: 1, Line: 31,
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
				Server:   Server{Listen: ":8081", BaseURL: "http://localhost:8081"},
				Storage:  Storage{Driver: "sqlite", DSN: filepath.Join(dir, "feedmill.db")},
				Schedule: "*/15 * * * *",
				Fetch:    defaultFetch,
				Sources: []Source{
					{Name: "a", URL: "http://a.example/feed", Categories: []string{"x"}, Retention: 500, Line: 6},
					{Name: "b", URL: "http://b.example/feed", Categories: []string{"y", "x"}, Retention: 500, Line: 9},
					{Name: "c", URL: "http://c.example/feed", Retention: 500, Line: 12},
					{Name: "d", URL: "http://d.example/feed", Categories: []string{"z"}, Retention: 500, Line: 14},
				},
				Feeds: []Feed{
					{Name: "star", Title: "star", Description: "Items from 4 sources", Sources: []string{"*", "c"}, Limit: 50, Line: 18},
					{Name: "by-category", Title: "by-category", Description: "Items from 2 sources", Categories: []string{"x"}, Limit: 50, Line: 20},
					{Name: "union", Title: "union", Description: "Items from 3 sources", Sources: []string{"d", "c"}, Categories: []string{"y"}, Limit: 50, Line: 22},
					{Name: "one", Title: "one", Description: "Items from 1 source", Sources: []string{"c", "c"}, Limit: 50, Line: 25},
				},
			},
			feedSources: map[string][]string{
				"star":        {"a", "b", "c", "d"},
				"by-category": {"a", "b"},
				"union":       {"b", "c", "d"},
				"one":         {"c"},
			},
		},
		{
			file: "aliases.yaml",
			want: &Config{
				Server:   Server{Listen: "[::]:8082", BaseURL: "http://localhost:8082"},
				Storage:  Storage{Driver: "postgres", DSN: "postgres://feedmill@127.0.0.1/feedmill?sslmode=disable"},
				Schedule: "*/15 * * * *",
				Fetch:    defaultFetch,
				Sources: []Source{
					{Name: "one", URL: "http://127.0.0.1:8000/feed.xml", Title: "2024", Categories: []string{"local", "test"}, Retention: 500, Line: 12},
					{Name: "two", URL: "http://127.0.0.1:8000/feed.xml", Categories: []string{"local", "test"}, Retention: 500, Line: 16},
				},
				Feeds: []Feed{{
					Name: "all", Title: "feedmill: all sources", Description: "Items from 2 sources",
					Sources: []string{"*"}, Limit: 50,
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
`), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := c.DomainSources()
	want := []feed.Source{
		{Name: "a", URL: "https://a.example/feed", Categories: []string{"x"}, Schedule: "@every 20m", Retention: 500},
		{Name: "b", URL: "https://b.example/feed", Schedule: "@daily", Retention: 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DomainSources\n got %+v\nwant %+v", got, want)
	}
	got[0].Categories[0] = "changed"
	if c.Sources[0].Categories[0] != "x" {
		t.Error("DomainSources shares its Categories slice with the Config")
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
