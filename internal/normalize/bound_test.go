package normalize

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/feedmill/feedmill/internal/feed"
)

// recordingHandler keeps the records logged through it.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}

// warnings returns the warnings logged, each as its message and attributes.
func (h *recordingHandler) warnings() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.records {
		if r.Level < slog.LevelWarn {
			continue
		}
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

// TestFieldCaps: an item's fields are stored and republished within their
// caps, however long the feed makes them: text cut at a character
// boundary, an overlong link dropped, an overlong id made short but still
// its own and the same on every refresh, and the cuts of a whole feed
// logged once.
func TestFieldCaps(t *testing.T) {
	const mib = 1 << 20
	longTitle := strings.Repeat("é", 5*mib/2)                        // 5 MiB of two-byte letters
	longID := "tag:x.example,2025:" + strings.Repeat("€", 100_000/3) // three-byte letters
	longLink := "https://x.example/" + strings.Repeat("a", 100_000)
	var cats strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&cats, "<category>c%d</category>", i)
	}
	var authors strings.Builder
	for i := range 100 {
		fmt.Fprintf(&authors, "<dc:creator>Author %d</dc:creator>", i)
	}
	content := "<p>" + strings.Repeat("Long text &amp; more. ", 30_000) + "</p>" // 660 KB
	body := func(longTitle string) string {
		return `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>` + strings.Repeat("é", 5_000) + `</title><link>https://x.example/</link>` +
			// 1: everything too long.
			`<item><guid isPermaLink="false">` + longID + `a</guid><title>` + longTitle + `</title><link>` + longLink + `</link>` +
			`<category>` + strings.Repeat("k", 10_000) + `</category>` + cats.String() +
			`<dc:creator>` + strings.Repeat("Name, ", 10_000) + `</dc:creator>` + authors.String() +
			`<content:encoded><![CDATA[` + content + `]]></content:encoded></item>` +
			// 2: an id that shares the first's start and differs past the cap.
			`<item><guid isPermaLink="false">` + longID + `b</guid><title>b</title></item>` +
			// 3: a link over the cap and no guid: the id derives from the link.
			`<item><title>c</title><link>` + longLink + `c</link></item>` +
			// 4: fine as it is.
			`<item><guid isPermaLink="false">short</guid><title>d</title><link>https://x.example/d</link></item>` +
			`</channel></rss>`
	}

	h := &recordingHandler{}
	n := New(Options{Logger: slog.New(h)})
	src := feed.Source{Name: "huge"}
	f, err := n.Normalize(src, []byte(body(longTitle)), "https://x.example/feed", testNow)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	checkInvariants(t, f)
	if len(f.Items) != 4 {
		t.Fatalf("%d items, want 4", len(f.Items))
	}
	first, second, third, fourth := f.Items[0], f.Items[1], f.Items[2], f.Items[3]

	if !strings.HasSuffix(f.Title, "…") || !strings.HasPrefix(f.Title, "éé") {
		t.Errorf("feed title not cut: %d bytes, %.20q", len(f.Title), f.Title)
	}
	if !strings.HasSuffix(first.Title, "…") || len(first.Title) < MaxTitleBytes-8 {
		t.Errorf("title cut to %d bytes, %.20q...; want about %d ending with …", len(first.Title), first.Title, MaxTitleBytes)
	}
	if !strings.HasPrefix(first.ID, "tag:x.example,2025:€€") || !strings.Contains(first.ID, idHashSep) {
		t.Errorf("id cut to %.40q..., want its start and a hash", first.ID)
	}
	if first.ID == second.ID {
		t.Errorf("two ids that differ past the cap became one: %.40q", first.ID)
	}
	if first.Link != "" || first.Canonical != "" || third.Link != "" {
		t.Errorf("links over the cap kept: %d, %d, %d bytes", len(first.Link), len(first.Canonical), len(third.Link))
	}
	if third.ID == "" || len(third.ID) > MaxIDBytes {
		t.Errorf("id derived from an overlong link: %d bytes", len(third.ID))
	}
	if len(first.Categories) != MaxCategories || len(first.Categories[0]) > MaxCategoryBytes || first.Categories[1] != "c0" {
		t.Errorf("categories: %d, first %d bytes, second %q", len(first.Categories), len(first.Categories[0]), first.Categories[1])
	}
	if len(first.Authors) != MaxAuthors || !strings.HasSuffix(first.Authors[0].Name, "…") {
		t.Errorf("authors: %d, first %.20q (%d bytes)", len(first.Authors), first.Authors[0].Name, len(first.Authors[0].Name))
	}
	if !strings.HasPrefix(first.Content, "<p>Long text &amp; more.") || !strings.HasSuffix(first.Content, "…</p>") {
		t.Errorf("content cut to %d bytes: %.30q ... %q", len(first.Content), first.Content, first.Content[max(0, len(first.Content)-30):])
	}
	if fourth.ID != "short" || fourth.Link != "https://x.example/d" || fourth.Title != "d" {
		t.Errorf("an item within the caps changed: %+v", fourth)
	}

	// The feed again (the next refresh; its first title shorter, which
	// ids do not depend on) gives the same ids.
	again, err := New(Options{}).Normalize(src, []byte(body("a")), "https://x.example/feed", testNow)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Items {
		if again.Items[i].ID != f.Items[i].ID {
			t.Errorf("item %d: id %.40q, then %.40q", i, f.Items[i].ID, again.Items[i].ID)
		}
	}

	// One warning for the whole feed, naming the source and what was cut.
	warns := h.warnings()
	if len(warns) != 1 {
		t.Fatalf("%d warnings, want 1: %v", len(warns), warns)
	}
	want := map[string]string{"source": "huge", "titles": "2", "ids": "3", "links": "2", "contents": "1"}
	for k, v := range want {
		if warns[0][k] != v {
			t.Errorf("warning %s = %q, want %q (%v)", k, warns[0][k], v, warns[0])
		}
	}
	for _, k := range []string{"categories", "authors"} {
		if warns[0][k] == "" {
			t.Errorf("warning says nothing of %s: %v", k, warns[0])
		}
	}
}

// TestCutAtRuneBoundary: text is never cut inside a UTF-8 sequence,
// whichever byte the cap falls on, and an id's kept start never ends in
// half a percent-escape.
func TestCutAtRuneBoundary(t *testing.T) {
	for _, letter := range []string{"a", "é", "€", "😀"} {
		for pad := range 4 {
			s := strings.Repeat("x", pad) + strings.Repeat(letter, MaxTitleBytes+1)
			var c cuts
			got := c.text(s, MaxTitleBytes, &c.titles)
			if !utf8.ValidString(got) || len(got) > MaxTitleBytes || c.titles != 1 {
				t.Errorf("%q after %d bytes: cut to %d bytes, valid %v", letter, pad, len(got), utf8.ValidString(got))
			}
			id := capID(s)
			if !utf8.ValidString(id) || len(id) > MaxIDBytes {
				t.Errorf("%q after %d bytes: id cut to %d bytes, valid %v", letter, pad, len(id), utf8.ValidString(id))
			}
		}
	}
	for pad := range 3 {
		id := capID(strings.Repeat("x", pad) + strings.Repeat("%2F", MaxIDBytes))
		head, _, _ := strings.Cut(id, idHashSep)
		if !strings.HasSuffix(head, "%2F") {
			t.Errorf("kept start ends %q", head[len(head)-4:])
		}
	}
}

// TestCapHTML: HTML over the cap is cut to at most the cap, stays well
// formed (every element it opens it closes) and keeps its start.
func TestCapHTML(t *testing.T) {
	tests := []struct {
		name, html string
		max        int
		want       string
	}{
		{"fits", "<p>abc</p>", 10, "<p>abc</p>"},
		{"a paragraph that does not fit goes", "<p>one</p><p>two</p><p>three</p>", 26, "<p>one</p><p>two</p>"},
		{"whole paragraphs", "<p>one</p><p>two</p><p>three</p>", 31, "<p>one</p><p>two</p><p>t…</p>"},
		{"inside nested elements", "<ul><li><b>bold text</b></li></ul>", 32, "<ul><li><b>bold…</b></li></ul>"},
		{"escaped text counts escaped", "<p>a&amp;b&amp;c&amp;d</p>", 20, "<p>a&amp;b…</p>"},
		{"multi-byte text", "<p>€€€€€€</p>", 19, "<p>€€€…</p>"},
		{"an element that does not fit goes", `<p>abc</p><img src="https://x.example/a.png"><p>d</p>`, 16, "<p>abc</p>"},
		{"an element left empty goes", `<p>abc</p><p><a href="https://x.example/long/long/long">x</a></p>`, 20, "<p>abc</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := capHTML(tt.html, tt.max)
			if got != tt.want || len(got) > tt.max {
				t.Errorf("capHTML(%q, %d) = %q (%d bytes), want %q", tt.html, tt.max, got, len(got), tt.want)
			}
		})
	}
}
