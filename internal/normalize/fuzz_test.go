package normalize

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzNormalize feeds arbitrary bodies to Normalize: it must never panic,
// and whatever it returns must keep its promises (non-empty unique ids, UTC
// dates, only absolute http(s)/mailto URLs, no script URL anywhere).
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
	} {
		f.Add([]byte(seed))
	}
	n := New(nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := n.Normalize("fuzz", body, "https://fuzz.example/feed.xml", testNow)
		if err != nil {
			if got != nil {
				t.Errorf("Normalize returned a feed and an error: %v", err)
			}
			return
		}
		checkInvariants(t, got)
	})
}

// BenchmarkNormalize measures a typical blog feed: parsing, sanitizing and
// URL resolution of seven items with HTML content.
func BenchmarkNormalize(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "rss20.xml"))
	if err != nil {
		b.Fatal(err)
	}
	n := New(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := n.Normalize("bench", body, "https://go.example.org/feeds/blog.xml", testNow); err != nil {
			b.Fatal(err)
		}
	}
}
