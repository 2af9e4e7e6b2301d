package normalize

import (
	"os"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// maxAllocsPerItem bounds what Normalize allocates per item of
// testdata/allocs/feed.xml: eight articles of about 1.3 KB of HTML each.
// Parsing each item's HTML once, reading bluemonday's output back with
// buildSimple and reusing buffers took it from about 1,580 to about 1,310,
// most of which are gofeed's (its date parsing alone tries layout after
// layout) and bluemonday's. Another parse of an item's HTML costs about
// 150 more: the bound lets small library changes through, not that. It
// counts allocations, never time.
const maxAllocsPerItem = 1400

func TestAllocsPerItem(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations over several runs")
	}
	body, err := os.ReadFile("testdata/allocs/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	n := New(Options{})
	src := feed.Source{Name: "allocs"}
	f, err := n.Normalize(src, body, "https://example.org/feed.xml", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != 8 {
		t.Fatalf("%d items, want 8", len(f.Items))
	}
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := n.Normalize(src, body, "https://example.org/feed.xml", testNow); err != nil {
			t.Fatal(err)
		}
	})
	perItem := allocs / float64(len(f.Items))
	t.Logf("%.0f allocations per item", perItem)
	if perItem > maxAllocsPerItem {
		t.Errorf("Normalize allocates %.0f times per item; the bound is %d", perItem, maxAllocsPerItem)
	}
}
