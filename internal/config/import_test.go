package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// importInto copies the config text into a fresh directory as feeds.yaml,
// imports opml into it and returns the file's path and its new contents.
func importInto(t *testing.T, config, opml string) (path string, added, skipped []string, out []byte, err error) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	added, skipped, err = Import(path, []byte(opml))
	out, readErr := os.ReadFile(path)
	if readErr != nil {
		t.Fatal(readErr)
	}
	return path, added, skipped, out, err
}

// inserted checks that out is old with one run of text inserted, and
// returns that text.
func inserted(t *testing.T, old, out []byte) string {
	t.Helper()
	n := 0
	for n < len(old) && n < len(out) && old[n] == out[n] {
		n++
	}
	// Back up to a line start, so the insertion reads as whole lines.
	for n > 0 && old[n-1] != '\n' {
		n--
	}
	if !bytes.HasSuffix(out, old[n:]) || len(out) < len(old) {
		t.Fatalf("the edit changed existing text:\n--- old\n%s\n--- new\n%s", old, out)
	}
	return string(out[n : len(out)-len(old)+n])
}

func TestImportKeepsTheFile(t *testing.T) {
	old, err := os.ReadFile("testdata/import/commented.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opml, err := os.ReadFile("testdata/import/reader.opml")
	if err != nil {
		t.Fatal(err)
	}
	path, added, skipped, out, err := importInto(t, string(old), string(opml))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	wantAdded := []string{
		"lobsters", "research-rsc", "le-cafe-actualites-1", "xkcd-2",
		"a-very-long-title-that-goes-on-and-on-ab", "a-very-long-title-that-goes-on-and-on-2",
		"untitled-example", "podcast",
	}
	if !reflect.DeepEqual(added, wantAdded) {
		t.Errorf("added = %q\nwant    %q", added, wantAdded)
	}
	if want := []string{"https://go.dev/blog/feed.atom", "https://xkcd.com/atom.xml"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped = %q, want %q", skipped, want)
	}

	// Every byte of the file is kept; the new entries sit between the
	// last source (with its trailing comments) and the comment that
	// introduces feeds, in the file's layout.
	got := inserted(t, old, out)
	testkit.Golden(t, "testdata/import/commented.want.yaml", out)
	for _, want := range []string{
		"    # (kept short)\n\n  - name: lobsters\n",
		"    title: Podcast\n\n# Published feeds follow",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("entries not placed between the last source's comments and the feeds' comment (no %q):\n%s", want, got)
		}
	}

	c, err := Load(path)
	if err != nil {
		t.Fatalf("the imported file does not load: %v", err)
	}
	if len(c.Sources) != 2+len(wantAdded) {
		t.Fatalf("%d sources after import, want %d", len(c.Sources), 2+len(wantAdded))
	}
	bySource := make(map[string]Source)
	for _, s := range c.Sources {
		bySource[s.Name] = s
		if len(s.Name) > maxImportedName || !validSourceName(s.Name) {
			t.Errorf("generated name %q is too long or invalid", s.Name)
		}
	}
	checks := []struct {
		name  string
		title string
		url   string
		cats  []string
	}{
		// In two folders and with a category attribute: all of them, once.
		{"lobsters", "Lobsters", "https://lobste.rs/rss", []string{"Tech", "news", "News"}},
		// Nested folders, outermost first.
		{"research-rsc", "research!rsc", "https://research.swtch.com/feed.atom", []string{"Tech", "Go"}},
		{"le-cafe-actualites-1", "Le Café: «actualités» #1", "https://café.example/rss?lang=fr&full=1", []string{"News"}},
		// A clash with an existing name; the title is the OPML's.
		{"xkcd-2", "xkcd", "https://m.xkcd.com/atom.xml", nil},
		// No title: named after the host, no title line.
		{"untitled-example", "", "https://www.untitled.example/index.xml", nil},
		{"podcast", "Podcast", "http://podcast.example/feed.xml", nil},
	}
	for _, ck := range checks {
		s, ok := bySource[ck.name]
		if !ok {
			t.Errorf("no source %s", ck.name)
			continue
		}
		if s.Title != ck.title || s.URL != ck.url || !reflect.DeepEqual(s.Categories, ck.cats) {
			t.Errorf("source %s = title %q, url %q, categories %q; want %q, %q, %q",
				ck.name, s.Title, s.URL, s.Categories, ck.title, ck.url, ck.cats)
		}
	}

	// A second import finds every feed and leaves the file alone.
	added, skipped, err = Import(path, opml)
	if err != nil || len(added) != 0 {
		t.Fatalf("second Import = %q, %v; want nothing added", added, err)
	}
	if len(skipped) != 10 {
		t.Errorf("second Import skipped %d feeds, want all 10: %q", len(skipped), skipped)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) {
		t.Error("an import that added nothing changed the file")
	}
}

// TestImportRoundTrip imports the OPML that internal/publish writes (its
// golden file, copied) and gets the sources back.
func TestImportRoundTrip(t *testing.T) {
	opml, err := os.ReadFile("testdata/import/feedmill.opml")
	if err != nil {
		t.Fatal(err)
	}
	path, added, _, _, err := importInto(t, "sources:\n", string(opml))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha-blog", "beta-news", "gamma"}; !reflect.DeepEqual(added, want) {
		t.Errorf("added = %q, want %q", added, want)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{Name: "alpha-blog", URL: "https://alpha.example.com/feed.xml", Title: "Alpha Blog", Categories: []string{"tech"}, Retention: 500, Line: 2},
		{Name: "beta-news", URL: "https://beta.example.net/rss", Title: "Beta News", Categories: []string{"news", "Tech"}, Retention: 500, Line: 6},
		{Name: "gamma", URL: "https://gamma.example.org/atom.xml", Retention: 500, Line: 10},
	}
	if !reflect.DeepEqual(c.Sources, want) {
		t.Errorf("sources after the round trip:\n got %+v\nwant %+v", c.Sources, want)
	}
}

// TestImportLayouts pins where and how entries go for each way a file may
// hold (or lack) its sources list.
func TestImportLayouts(t *testing.T) {
	const opml = `<opml version="1.0"><body>
		<outline text="Alpha" xmlUrl="https://a.example/feed"/>
		<outline text="Beta" xmlUrl="https://b.example/feed" category="x"/>
	</body></opml>`
	const entries = "  - name: alpha\n    url: https://a.example/feed\n    title: Alpha\n" +
		"  - name: beta\n    url: https://b.example/feed\n    title: Beta\n    categories: [x]\n"
	tests := []struct {
		name, config, want string
	}{
		{
			name:   "no sources key",
			config: "schedule: '@hourly' # hourly\n",
			want:   "schedule: '@hourly' # hourly\n\nsources:\n" + entries,
		},
		{
			name:   "no sources key, no final newline",
			config: "schedule: '@hourly'",
			want:   "schedule: '@hourly'\n\nsources:\n" + entries,
		},
		{
			name:   "empty file",
			config: "",
			want:   "sources:\n" + entries,
		},
		{
			name:   "comments only",
			config: "# nothing yet\n\n",
			want:   "# nothing yet\n\nsources:\n" + entries,
		},
		{
			name:   "empty value",
			config: "sources:\nfeeds:\n  - {name: all, sources: ['*']}\n",
			want:   "sources:\n" + entries + "feeds:\n  - {name: all, sources: ['*']}\n",
		},
		{
			name:   "empty flow list with a comment",
			config: "sources: []   # to do\n",
			want:   "sources: # to do\n" + entries,
		},
		{
			name:   "tilde",
			config: "sources: ~\n",
			want:   "sources:\n" + entries,
		},
		{
			name:   "null without newline",
			config: "sources: null",
			want:   "sources:\n" + entries,
		},
		{
			name:   "zero-indented list, comment at column 1 after it",
			config: "sources:\n- name: z\n  url: https://z.example/\n# feeds next\nfeeds: [{name: all, sources: ['*']}]\n",
			want: "sources:\n- name: z\n  url: https://z.example/\n" +
				"- name: alpha\n  url: https://a.example/feed\n  title: Alpha\n" +
				"- name: beta\n  url: https://b.example/feed\n  title: Beta\n  categories: [x]\n" +
				"# feeds next\nfeeds: [{name: all, sources: ['*']}]\n",
		},
		{
			name:   "wide list, last in the file, no final newline",
			config: "sources:\n    -   name: z\n        url: https://z.example/",
			want: "sources:\n    -   name: z\n        url: https://z.example/\n" +
				"    -   name: alpha\n        url: https://a.example/feed\n        title: Alpha\n" +
				"    -   name: beta\n        url: https://b.example/feed\n        title: Beta\n        categories: [x]\n",
		},
		{
			name: "blank lines between entries, commented-out entry kept inside",
			config: "sources:\n  - name: y\n    url: https://y.example/\n\n  - name: z\n    url: https://z.example/\n" +
				"  # - name: old\n  #   url: https://old.example/\n\n\n",
			want: "sources:\n  - name: y\n    url: https://y.example/\n\n  - name: z\n    url: https://z.example/\n" +
				"  # - name: old\n  #   url: https://old.example/\n" +
				"\n  - name: alpha\n    url: https://a.example/feed\n    title: Alpha\n" +
				"\n  - name: beta\n    url: https://b.example/feed\n    title: Beta\n    categories: [x]\n\n\n",
		},
		{
			name:   "CRLF line endings",
			config: "sources:\r\n  - name: z\r\n    url: https://z.example/\r\n",
			want:   "sources:\r\n  - name: z\r\n    url: https://z.example/\r\n" + strings.ReplaceAll(entries, "\n", "\r\n"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, added, _, out, err := importInto(t, tt.config, opml)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if want := []string{"alpha", "beta"}; !reflect.DeepEqual(added, want) {
				t.Errorf("added = %q, want %q", added, want)
			}
			if string(out) != tt.want {
				t.Errorf("file after import:\n%s\nwant:\n%s", out, tt.want)
			}
			if _, err := Load(path); err != nil {
				t.Errorf("result does not load: %v", err)
			}
		})
	}
}

// TestImportRefuses pins that a file Import cannot edit safely, or whose
// result would not be valid, is left exactly as it was, with a message.
func TestImportRefuses(t *testing.T) {
	const opml = `<opml><body><outline text="Alpha" xmlUrl="https://a.example/feed"/></body></opml>`
	tests := []struct {
		name, config, opml, err string
	}{
		{"invalid config", "sources:\n  - name: z\n    url: https://z.example/\nfetch:\n  timeot: 3s\n", opml,
			"fix the file first (nothing was written):\n"},
		{"invalid config, named", "sources:\n  - name: z\n    url: https://z.example/\nfetch:\n  timeot: 3s\n", opml,
			"/feeds.yaml:5: fetch.timeot: unknown key"},
		{"flow list", "sources: [{name: z, url: 'https://z.example/'}]\n", opml, "line 1: sources is a flow list"},
		{"alias", "x: &s\n  - name: z\n    url: https://z.example/\nsources: *s\n", opml, "sources is an alias"},
		{"not a list", "sources: {name: z}\n", opml, "line 1: sources is not a list"},
		{"top level list", "- a\n- b\n", opml, "the top level is not a mapping"},
		{"flow top level", "{schedule: '@daily'}\n", opml, "the top level is written in flow style"},
		{"not YAML", "sources: [\n", opml, "not valid YAML"},
		{"bare CR", "sources:\r  - name: z\r", opml, "bare carriage returns"},
		{"null on its own line", "sources:\n  ~\n", opml, "line 2: sources has its empty value on a line of its own"},
		{"not XML", "sources:\n", "Subscriptions: a, b", "not an OPML file: no XML element found"},
		{"HTML", "sources:\n", "<!DOCTYPE html><html><body><outline xmlUrl='https://a.example/'/></body></html>", "not an OPML file: the document is <html>, not <opml>"},
		{"truncated", "sources:\n", `<opml><body><outline text="A" xmlUrl="https://a.example/feed"`, "not an OPML file: XML syntax error on line 1: unexpected EOF"},
		{"no outlines", "sources:\n", "<opml><head/><body/></opml>", "no feeds in the OPML file: it has no outline elements"},
		{"folders only", "sources:\n", `<opml><body><outline text="Tech"><outline text="Go"/></outline></body></opml>`,
			"no feeds in the OPML file: no outline (of 2) has an xmlUrl with type rss, atom or none"},
		{"unfetchable URLs", "sources:\n", "<opml><body>\n<outline text=\"Rel\" xmlUrl=\"/feed\"/>\n<outline text=\"FTP\" xmlUrl=\"ftp://x.example/rss\"/>\n</body></opml>",
			"feeds feedmill cannot fetch (fix or remove them):\n" +
				`line 2: outline "Rel": not an absolute http(s) URL: "/feed" (relative)` + "\n" +
				`line 3: outline "FTP": not an absolute http(s) URL: "ftp://x.example/rss" (scheme ftp)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "feeds.yaml")
			if err := os.WriteFile(path, []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			added, _, err := Import(path, []byte(tt.opml))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Import = %q, %v; want an error containing %q", added, err, tt.err)
			}
			out, _ := os.ReadFile(path)
			if string(out) != tt.config {
				t.Errorf("a refused import changed the file:\n%s", out)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("a refused import left files behind: %v", entries)
			}
		})
	}
}

func TestImportKeepsModeAndLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.yaml")
	if err := os.WriteFile(real, []byte("sources:\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "feeds.yaml")
	if err := os.Symlink("real.yaml", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	opml := `<opml><body><outline text="A" xmlUrl="https://a.example/feed"/></body></opml>`
	if _, _, err := Import(link, []byte(opml)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v, %v", fi.Mode(), err)
	}
	fi, err = os.Stat(real)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after import = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	out, _ := os.ReadFile(real)
	if want := "sources:\n  - name: a\n    url: https://a.example/feed\n    title: A\n"; string(out) != want {
		t.Errorf("file = %q, want %q", out, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("import left files behind: %v", entries)
	}
}

func TestParseOPML(t *testing.T) {
	tests := []struct {
		name string
		opml string
		want []opmlFeed
	}{
		{
			name: "OPML 1.0 without types",
			opml: `<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>` +
				`<outline text="A" xmlUrl="http://a.example/rss"/></body></opml>`,
			want: []opmlFeed{{URL: "http://a.example/rss", Title: "A", Line: 1}},
		},
		{
			name: "title wins over text, whitespace collapsed",
			opml: "<opml><body><outline text=\"short\" title=\"  Long\n\tTitle \" xmlUrl=\"http://a.example/\"/></body></opml>",
			want: []opmlFeed{{URL: "http://a.example/", Title: "Long Title", Line: 2}},
		},
		{
			name: "category attribute: comma-separated paths",
			opml: `<opml><body><outline text="A" xmlUrl="http://a.example/" category="/Tech/Go, /News,,  /  , News"/></body></opml>`,
			want: []opmlFeed{{URL: "http://a.example/", Title: "A", Categories: []string{"Tech/Go", "News"}, Line: 1}},
		},
		{
			name: "feed pseudo-schemes",
			opml: `<opml><body><outline text="A" xmlUrl="feed://a.example/rss"/><outline text="B" xmlUrl="FEED:https://b.example/rss"/></body></opml>`,
			want: []opmlFeed{
				{URL: "http://a.example/rss", Title: "A", Line: 1},
				{URL: "https://b.example/rss", Title: "B", Line: 1},
			},
		},
		{
			name: "types: rss and atom in any case; others are not feeds",
			opml: `<opml><body><outline type="RSS" text="A" xmlUrl="http://a.example/"/><outline type="Atom" text="B" xmlUrl="http://b.example/"/>` +
				`<outline type="link" text="C" xmlUrl="http://c.example/"/><outline type="include" text="D" xmlUrl="http://d.example/"/></body></opml>`,
			want: []opmlFeed{{URL: "http://a.example/", Title: "A", Line: 1}, {URL: "http://b.example/", Title: "B", Line: 1}},
		},
		{
			name: "careless XML: attribute case, bare ampersand, HTML entity",
			opml: `<opml><body><outline TEXT="Caf&eacute; &amp; Bar" XMLURL="http://a.example/?a=1&b=2"/></body></opml>`,
			want: []opmlFeed{{URL: "http://a.example/?a=1&b=2", Title: "Café & Bar", Line: 1}},
		},
		{
			name: "a feed's children do not get it as a category",
			opml: `<opml><body><outline text="A" xmlUrl="http://a.example/"><outline text="B" xmlUrl="http://b.example/"/></outline></body></opml>`,
			want: []opmlFeed{{URL: "http://a.example/", Title: "A", Line: 1}, {URL: "http://b.example/", Title: "B", Line: 1}},
		},
		{
			name: "declared charset",
			opml: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body><outline text=\"Caf\xe9\" xmlUrl=\"http://a.example/\"/></body></opml>",
			want: []opmlFeed{{URL: "http://a.example/", Title: "Café", Line: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOPML([]byte(tt.opml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseOPML\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSourceNames(t *testing.T) {
	tests := []struct{ title, url, want string }{
		{"The Go Blog", "https://go.dev/blog/feed.atom", "the-go-blog"},
		{"  --Hello,   World!--  ", "https://x.example/", "hello-world"},
		{"Joel's Blog", "https://x.example/", "joels-blog"},
		{"Ærøskøbing Ñandú", "https://x.example/", "aeroskobing-nandu"},
		{"日本語のブログ", "https://www.blog.example.jp/rss", "blog-example-jp"},
		{"", "http://[::1]:8080/feed", "1"},
		{"", "http://%zz/", "feed"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz", "https://x.example/", "abcdefghijklmnopqrstuvwxyz-abcdefghijklm"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b", "https://x.example/", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			if got := sourceName(opmlFeed{Title: tt.title, URL: tt.url}); got != tt.want {
				t.Errorf("sourceName(%q, %q) = %q, want %q", tt.title, tt.url, got, tt.want)
			}
		})
	}

	used := map[string]bool{"news": true, "long-" + strings.Repeat("x", 35): true}
	for _, want := range []string{"news-2", "news-3", "other"} {
		base := "news"
		if want == "other" {
			base = "other"
		}
		if got := uniqueName(base, used); got != want {
			t.Errorf("uniqueName(%q) = %q, want %q", base, got, want)
		}
	}
	long := "long-" + strings.Repeat("x", 35)
	if got, want := uniqueName(long, used), "long-"+strings.Repeat("x", 33)+"-2"; got != want {
		t.Errorf("uniqueName of a 40-character clash = %q, want %q", got, want)
	}
	if got := uniqueName("News", used); got != "News-4" {
		t.Errorf("uniqueName is case-sensitive: got %q, want News-4", got)
	}
}

func FuzzParseOPML(f *testing.F) {
	for _, name := range []string{"reader.opml", "feedmill.opml"} {
		data, err := os.ReadFile(filepath.Join("testdata/import", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<opml><body><outline text="A"><outline xmlUrl="feed://a.example/" category="/x,,/"/></outline></body></opml>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := parseOPML(data)
		if err != nil {
			if len(feeds) != 0 {
				t.Fatalf("feeds %v returned with error %v", feeds, err)
			}
			return
		}
		if len(feeds) == 0 {
			t.Fatal("no feeds and no error")
		}
		seen := make(map[string]bool)
		for _, fd := range feeds {
			if checkFeedURL(fd.URL, feed.Redactor{}) != "" || seen[fd.URL] {
				t.Errorf("bad or repeated URL %q", fd.URL)
			}
			seen[fd.URL] = true
			if fd.Title != collapseSpace(fd.Title) {
				t.Errorf("title %q not collapsed", fd.Title)
			}
			for _, c := range fd.Categories {
				if c == "" || c != collapseSpace(c) {
					t.Errorf("category %q", c)
				}
			}
			if name := sourceName(fd); name == "" || len(name) > maxImportedName || !validSourceName(name) {
				t.Errorf("title %q gives the name %q", fd.Title, name)
			}
		}
	})
}

// FuzzImport imports a fixed OPML into arbitrary files: either the file is
// left exactly as it was, or the result is valid and holds every old byte
// in order with one run of new text inserted.
func FuzzImport(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("sources: []   # to do\n"))
	f.Add([]byte("sources:\n- name: z\n  url: https://z.example/\n# c\nfeeds: [{name: all, sources: ['*']}]\n"))
	const opml = `<opml><body><outline text="News"><outline text="A: b #c" xmlUrl="https://a.example/feed" category="x"/></outline>` +
		`<outline text="Z" xmlUrl="https://z.example/"/></body></opml>`
	f.Fuzz(func(t *testing.T, config []byte) {
		path := filepath.Join(t.TempDir(), "feeds.yaml")
		if err := os.WriteFile(path, config, 0o644); err != nil {
			t.Fatal(err)
		}
		added, _, err := Import(path, []byte(opml))
		out, readErr := os.ReadFile(path)
		if readErr != nil {
			t.Fatal(readErr)
		}
		if err != nil || len(added) == 0 {
			if !bytes.Equal(out, config) {
				t.Fatalf("Import = %q, %v, and changed the file", added, err)
			}
			return
		}
		// Every old line is still there, in order; only the sources key's
		// line may have lost an empty value ("sources: []").
		oldLines, newLines := strings.Split(string(config), "\n"), strings.Split(string(out), "\n")
		i, keyEdited := 0, false
		for j := 0; j < len(newLines) && i < len(oldLines); j++ {
			switch {
			case newLines[j] == oldLines[i]:
				i++
			case !keyEdited && strings.HasPrefix(strings.TrimSpace(oldLines[i]), "sources") &&
				strings.HasPrefix(strings.TrimSpace(newLines[j]), "sources"):
				i, keyEdited = i+1, true
			}
		}
		if i < len(oldLines) {
			t.Fatalf("the edit changed existing text at old line %d %q:\n--- old\n%s\n--- new\n%s", i+1, oldLines[i], config, out)
		}
		if _, err := Parse(out, path); err != nil {
			t.Fatalf("Import wrote an invalid file: %v", err)
		}
	})
}
