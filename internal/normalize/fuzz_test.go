package normalize

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/testkit"
)

// FuzzNormalize feeds arbitrary bodies to Normalize: it must never panic,
// and whatever it returns must keep its promises (non-empty unique ids, UTC
// dates, only absolute http(s)/mailto URLs, no script URL anywhere, nothing
// executable in the HTML nor in the text: see hostileItemProblems). Its seed
// corpus (testdata/fuzz/FuzzNormalize) holds hostile and pathological
// feeds.
//
//	go test -run '^$' -fuzz=FuzzNormalize -fuzztime=1m -fuzzminimizetime=5s ./internal/normalize/
//
// (The default minimizing time of a minute per new input makes the fuzzer
// look stuck on this target.)
func FuzzNormalize(f *testing.F) {
	for _, fx := range fixtures {
		body, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, seed := range []string{
		``,
		`{}`,
		`{"items":[{}]}`,
		`<rss><channel><item><description>&lt;a href="javascript:x"&gt;</description></item></channel></rss>`,
		`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:x/"><entry><link href="y"/><content type="html">&lt;img src="z"&gt;</content></entry></feed>`,
		`<?xml version="1.0"?><!-- x --><entry xmlns="http://www.w3.org/2005/Atom"><id>1</id><link rel="hub" href="h"/></entry>`,
		`{"feed_url":"javascript:x","hubs":[{"type":"WebSub","url":"//hub"},{"type":1}],"items":[]}`,
		`<rss xmlns:a="http://www.w3.org/2005/Atom"><channel><a:link rel="hub self" href="data:x"/></channel></rss>`,
	} {
		f.Add([]byte(seed))
	}
	n := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := n.Normalize(feed.Source{Name: "fuzz"}, body, "https://fuzz.example/feed.xml", testNow)
		if err != nil {
			if got != nil {
				t.Errorf("Normalize returned a feed and an error: %v", err)
			}
			return
		}
		checkInvariants(t, got)
		for i, it := range got.Items {
			for _, p := range rules.HostileItemProblems(it) {
				t.Errorf("item %d: %s", i, p)
			}
		}
		if defuse(got.Title) != got.Title {
			t.Errorf("feed title %q holds active markup", got.Title)
		}
	})
}

// BenchmarkNormalize measures a typical blog feed: parsing, sanitizing and
// URL resolution of seven items with HTML content.
func BenchmarkNormalize(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "rss20.xml"))
	if err != nil {
		b.Fatal(err)
	}
	n := New(Options{})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := n.Normalize(feed.Source{Name: "bench"}, body, "https://go.example.org/feeds/blog.xml", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	iframeTag = regexp.MustCompile(`<iframe[^>]*>`)
	srcAttr   = regexp.MustCompile(` src="([^"]*)"`)
)

// BenchmarkSanitize measures the HTML pipeline of every summary and
// content: hygiene, sanitizing, tidying.
func BenchmarkSanitize(b *testing.B) {
	// An article page of internal/scrape's invented news sites.
	raw, err := os.ReadFile(filepath.Join("..", "scrape", "testdata", "sites", "harbourgazette", "ferry-fares-frozen.html"))
	if err != nil {
		b.Fatal(err)
	}
	page := string(raw)
	n := New(Options{})
	base := testkit.MustURL(b, "https://www.harbourgazette.example/news/2025/05/ferry-fares-frozen")
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		n.sanitizeHTML(page, base, base)
	}
}

// FuzzSanitize feeds arbitrary fragments to sanitizeHTML, the pipeline of
// every summary and content: no panic, only absolute http(s)/mailto URLs,
// nothing executable (unsafeHTML), no iframe but a video player, and a
// second pass changes nothing. Its seed corpus (testdata/fuzz/FuzzSanitize)
// holds mutation-XSS and parser-confusion vectors.
//
//	go test -run '^$' -fuzz=FuzzSanitize -fuzztime=1m -fuzzminimizetime=5s ./internal/normalize/
func FuzzSanitize(f *testing.F) {
	for _, seed := range []string{
		`<p>a <img data-src="/a.jpg"><noscript><img src="/a.jpg"></noscript></p>`,
		`<iframe src="//www.youtube.com/embed/x"><p>fallback</p></iframe>`,
		`<div> <p> x </p> <pre> y  z </pre> <a href="?utm_source=a#f"></a></div>`,
		`<noscript><noscript><img src="a"></noscript></noscript>`,
		`<svg><style><img src=x onerror=alert(1)></style></svg>`,
	} {
		f.Add(seed)
	}
	n := New(Options{})
	base := &url.URL{Scheme: "https", Host: "fuzz.example", Path: "/blog/"}
	f.Fuzz(func(t *testing.T, fragment string) {
		got := n.sanitizeHTML(fragment, base, base)
		if bad := testkit.UnsafeURLs(got); len(bad) > 0 {
			t.Errorf("unsafe URLs %q in %q", bad, got)
		}
		if bad := rules.UnsafeHTML(got); len(bad) > 0 {
			t.Errorf("unsafe markup %q in %q", bad, got)
		}
		for _, tag := range iframeTag.FindAllString(got, -1) {
			m := srcAttr.FindStringSubmatch(tag)
			if m == nil || !playerURLPattern.MatchString(m[1]) {
				t.Errorf("iframe %s in %q", tag, got)
			}
		}
		if again := n.sanitizeHTML(got, base, base); again != got {
			t.Errorf("not idempotent:\n once %q\ntwice %q", got, again)
		}
	})
}
