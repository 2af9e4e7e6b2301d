package normalize

import (
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestRewrites(t *testing.T) {
	const item = `<rss version="2.0"><channel><link>https://x.example/</link><item>
<guid>g1</guid>
<title>BREAKING: Ferry   fares frozen</title>
<description>&lt;p&gt;Summary. Sponsored by Acme.&lt;/p&gt;</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;Story text.&lt;/p&gt;&lt;p class="ad"&gt;ADVERT&lt;/p&gt;</content:encoded>
</item></channel></rss>`
	tests := []struct {
		name                         string
		rewrites                     []feed.Rewrite
		wantTitle, wantSum, wantBody string
	}{
		{
			name:      "none",
			wantTitle: "BREAKING: Ferry fares frozen", wantSum: "<p>Summary. Sponsored by Acme.</p>", wantBody: "<p>Story text.</p><p>ADVERT</p>",
		},
		{
			name:      "title, with whitespace collapsed after",
			rewrites:  []feed.Rewrite{{Field: feed.FieldTitle, Pattern: `^BREAKING:\s*`, Replace: ``}, {Field: feed.FieldTitle, Pattern: `frozen`, Replace: `  frozen  again `}},
			wantTitle: "Ferry fares frozen again", wantSum: "<p>Summary. Sponsored by Acme.</p>", wantBody: "<p>Story text.</p><p>ADVERT</p>",
		},
		{
			name:      "summary",
			rewrites:  []feed.Rewrite{{Field: feed.FieldSummary, Pattern: ` Sponsored by \w+\.`, Replace: ``}},
			wantTitle: "BREAKING: Ferry fares frozen", wantSum: "<p>Summary.</p>", wantBody: "<p>Story text.</p><p>ADVERT</p>",
		},
		{
			name:      "content, empty field means content, in order",
			rewrites:  []feed.Rewrite{{Pattern: `<p>ADVERT</p>`, Replace: ``}, {Field: feed.FieldContent, Pattern: `Story (\w+)`, Replace: `The $1`}},
			wantTitle: "BREAKING: Ferry fares frozen", wantSum: "<p>Summary. Sponsored by Acme.</p>", wantBody: "<p>The text.</p>",
		},
		{
			name:      "injected markup sanitized",
			rewrites:  []feed.Rewrite{{Field: feed.FieldContent, Pattern: `ADVERT`, Replace: `<script>alert(1)</script><a href="javascript:x()">x</a><img src="/a.png">`}},
			wantTitle: "BREAKING: Ferry fares frozen", wantSum: "<p>Summary. Sponsored by Acme.</p>", wantBody: `<p>Story text.</p><p>x<img src="https://x.example/a.png"/></p>`,
		},
		{
			name:      "content emptied: summary kept, content empty",
			rewrites:  []feed.Rewrite{{Field: feed.FieldContent, Pattern: `(?s).*`, Replace: ``}},
			wantTitle: "BREAKING: Ferry fares frozen", wantSum: "<p>Summary. Sponsored by Acme.</p>", wantBody: "",
		},
	}
	n := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "s", Rewrites: tc.rewrites}, []byte(item), "https://x.example/feed", testNow)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			it := f.Items[0]
			if it.Title != tc.wantTitle || it.Summary != tc.wantSum || it.Content != tc.wantBody {
				t.Errorf("got title %q summary %q content %q\nwant title %q summary %q content %q", it.Title, it.Summary, it.Content, tc.wantTitle, tc.wantSum, tc.wantBody)
			}
			if it.ID != "g1" {
				t.Errorf("ID = %q, want g1", it.ID)
			}
		})
	}
}

// TestRewriteKeepsHashedID pins that a title rewrite does not move the id
// of an item identified by a hash of its title.
func TestRewriteKeepsHashedID(t *testing.T) {
	body := []byte(`<rss version="2.0"><channel><item><title>BREAKING: x</title></item></channel></rss>`)
	n := New(Options{})
	plain, err := n.Normalize(feed.Source{Name: "s"}, body, "https://x.example/feed", testNow)
	if err != nil {
		t.Fatal(err)
	}
	rewritten, err := n.Normalize(feed.Source{Name: "s", Rewrites: []feed.Rewrite{{Field: "title", Pattern: "BREAKING: ", Replace: ""}}}, body, "https://x.example/feed", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Items[0].ID != rewritten.Items[0].ID || rewritten.Items[0].Title != "x" {
		t.Errorf("ids %q and %q, title %q: want the same id and title x", plain.Items[0].ID, rewritten.Items[0].ID, rewritten.Items[0].Title)
	}
}

func TestRewriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		rewrite feed.Rewrite
		mention string
	}{
		{"bad pattern", feed.Rewrite{Field: feed.FieldTitle, Pattern: `(unclosed`}, `"(unclosed"`},
		{"perl syntax RE2 refuses", feed.Rewrite{Pattern: `(?<=a)b`}, `"(?<=a)b"`},
		{"unknown field", feed.Rewrite{Field: "author", Pattern: `x`}, `"author"`},
	}
	n := New(Options{})
	body := []byte(`<rss version="2.0"><channel><item><guid>g</guid></item></channel></rss>`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := n.Normalize(feed.Source{Name: "news-src", Rewrites: []feed.Rewrite{tc.rewrite}}, body, "https://x.example/feed", testNow)
			if err == nil || f != nil {
				t.Fatalf("Normalize = %v, %v; want an error", f, err)
			}
			if !strings.Contains(err.Error(), "news-src") || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %q, want it to name the source and %s", err, tc.mention)
			}
		})
	}
}
