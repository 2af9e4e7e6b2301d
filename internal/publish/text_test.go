package publish

import (
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		it   feed.Item
		n    int
		want string
	}{
		{"summary's text", feed.Item{Summary: "<p>Fares <b>frozen</b> &amp; kept.</p><p>Until March.</p>"}, 100, "Fares frozen & kept. Until March."},
		{"content when no summary", feed.Item{Content: "<p>From the content.</p>"}, 100, "From the content."},
		{"summary before content", feed.Item{Summary: "Short.", Content: "<p>Long content.</p>"}, 100, "Short."},
		{"scripts are no text", feed.Item{Summary: "<script>alert(1)</script><style>p{}</style>Text."}, 100, "Text."},
		{"cut at a word", feed.Item{Summary: "the harbour wall repairs finished early"}, 20, "the harbour wall…"},
		{"no text", feed.Item{Summary: "<img src=x>", Title: "Title"}, 100, ""},
		{"nothing", feed.Item{}, 100, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Excerpt(tc.it, tc.n)
			if got != tc.want {
				t.Errorf("Excerpt = %q, want %q", got, tc.want)
			}
			if n := len([]rune(strings.TrimSuffix(got, "…"))); n > tc.n {
				t.Errorf("Excerpt has %d characters, more than %d", n, tc.n)
			}
		})
	}
}
