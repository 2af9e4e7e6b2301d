package feed

import (
	"strings"
	"testing"
	"time"
)

func TestItemID(t *testing.T) {
	date := time.Date(2025, 3, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name              string
		guid, link, title string
		date              time.Time
		want              string
	}{
		{"guid wins", " guid-1 ", "https://x.example/1", "T", date, "guid-1"},
		{"link without guid", "", "https://x.example/1", "T", date, "https://x.example/1"},
		{"hash without guid and link", "", "", "T", date, ItemID("", "", "T", date.UTC())},
		{"blank guid falls through", "  ", "https://x.example/2", "", time.Time{}, "https://x.example/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ItemID(tt.guid, tt.link, tt.title, tt.date); got != tt.want {
				t.Errorf("ItemID = %q, want %q", got, tt.want)
			}
		})
	}
	a, b := ItemID("", "", "Title", date), ItemID("", "", "Title", date.Add(time.Second))
	if a == b || !strings.HasPrefix(a, "sha256:") {
		t.Errorf("hash ids %q and %q: want distinct sha256: ids for distinct dates", a, b)
	}
}

func TestPublicID(t *testing.T) {
	tests := []struct{ source, id, want string }{
		{"blog", "https://blog.example/p/1", "https://blog.example/p/1"},
		{"blog", "tag:blog.example,2025:1", "tag:blog.example,2025:1"},
		{"blog", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"},
		{"blog", "1234", "urn:feedmill:blog:1234"},
		{"blog", "https:/broken", "urn:feedmill:blog:https:%2Fbroken"},
		{"my blog", "a b", "urn:feedmill:my%20blog:a%20b"},
		{"blog", "mailto:x@y", "urn:feedmill:blog:mailto:x@y"},
		{"blog", "a&b~c", "urn:feedmill:blog:a%26b%7Ec"},
		{"blog", "https://blog.example/p{1}", "urn:feedmill:blog:https:%2F%2Fblog.example%2Fp%7B1%7D"},
		{"blog", "urn:isbn:0451450523", "urn:isbn:0451450523"},
		{"blog", "URN:UUID:1225C695-CFB8-4EBB-AAAA-80DA344EFA6A", "URN:UUID:1225C695-CFB8-4EBB-AAAA-80DA344EFA6A"},
		{"blog", "urn:uuid:not-a-uuid", "urn:feedmill:blog:urn:uuid:not-a-uuid"},
		{"blog", "urn:uuid:1225c695cfb84ebbaaaa80da344efa6a", "urn:feedmill:blog:urn:uuid:1225c695cfb84ebbaaaa80da344efa6a"},
		{"blog", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a-x", "urn:feedmill:blog:urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a-x"},
		{"blog", "urn:x:a b", "urn:feedmill:blog:urn:x:a%20b"},
		{"blog", "urn:a:1", "urn:feedmill:blog:urn:a:1"},
		{"blog", "tag:blog.example,2025-02-01:/p/1#x", "tag:blog.example,2025-02-01:/p/1#x"},
		{"blog", "tag:ann@blog.example,2025-02:x", "tag:ann@blog.example,2025-02:x"},
		{"blog", "tag:blog.example:1", "urn:feedmill:blog:tag:blog.example:1"},
		{"blog", "tag:blog.example,2025-13:1", "urn:feedmill:blog:tag:blog.example,2025-13:1"},
		{"blog", "tag:blog.example,25:1", "urn:feedmill:blog:tag:blog.example,25:1"},
		{"blog", "tag:,2025:1", "urn:feedmill:blog:tag:,2025:1"},
		{"blog", "tag:blog example,2025:1", "urn:feedmill:blog:tag:blog%20example,2025:1"},
	}
	for _, tt := range tests {
		if got := (Item{Source: tt.source, ID: tt.id}).PublicID(); got != tt.want {
			t.Errorf("PublicID(%q, %q) = %q, want %q", tt.source, tt.id, got, tt.want)
		}
	}
}

func TestItemDates(t *testing.T) {
	pub := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	seen := pub.Add(time.Hour)
	if got := (Item{FirstSeen: seen}).Date(); !got.Equal(seen) {
		t.Errorf("undated item's Date = %v, want first-seen %v", got, seen)
	}
	it := Item{Published: pub, Updated: pub.Add(2 * time.Hour), FirstSeen: seen}
	if !it.Date().Equal(pub) || !it.LastUpdate().Equal(pub.Add(2*time.Hour)) {
		t.Errorf("Date %v LastUpdate %v", it.Date(), it.LastUpdate())
	}
	if got := (Item{Published: pub, Updated: pub.Add(-time.Hour)}).LastUpdate(); !got.Equal(pub) {
		t.Errorf("LastUpdate before Published = %v, want %v", got, pub)
	}
}

func TestCondition(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const url = "https://blog.example/feed"
	fetched := SourceState{URL: url, LastFetch: now.Add(-time.Minute), LastStatus: 200}
	with := func(f func(*SourceState)) SourceState { st := fetched; f(&st); return st }
	tests := []struct {
		name string
		st   SourceState
		want Condition
	}{
		{"no attempt", SourceState{}, NeverFetched},
		{"fetched", fetched, Healthy},
		{"gone wins over moved", with(func(s *SourceState) { s.Gone, s.Moved, s.LastError = true, "https://x/", "410 Gone" }), Gone},
		{"429 with the wait ahead", with(func(s *SourceState) {
			s.LastStatus, s.LastError, s.NextFetch = 429, "HTTP 429", now.Add(time.Hour)
		}), Paused},
		{"429 with the wait over", with(func(s *SourceState) {
			s.LastStatus, s.LastError, s.NextFetch = 429, "HTTP 429", now.Add(-time.Second)
		}), Failing},
		{"failing", with(func(s *SourceState) { s.LastStatus, s.LastError = 500, "HTTP 500" }), Failing},
		{"moved", with(func(s *SourceState) { s.Moved = "https://new.example/feed" }), Moved},
		{"discovered", with(func(s *SourceState) { s.Discovered = "https://site.example/feed" }), Discovered},
		{"recorded under an old url", with(func(s *SourceState) { s.URL = "https://blog.example/old" }), NeverFetched},
		{"gone under an old url", with(func(s *SourceState) { s.URL, s.Gone = "https://blog.example/old", true }), NeverFetched},
		{"recorded under no url (before feedmill stored it)", with(func(s *SourceState) { s.URL = "" }), NeverFetched},
	}
	for _, tc := range tests {
		if got := tc.st.Condition(url, now); got != tc.want {
			t.Errorf("%s: Condition = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestStateFor(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	st := SourceState{Name: "blog", URL: "https://blog.example/old", LastFetch: now, LastSuccess: now, Gone: true,
		Failures: 2, LastError: "410 Gone", Validators: Validators{ETag: `"x"`}, ItemCount: 7}
	if got := st.For(st.URL); got != st {
		t.Errorf("For(its own url) = %+v, want the state unchanged", got)
	}
	want := SourceState{Name: "blog", URL: "https://blog.example/new", ItemCount: 7}
	if got := st.For("https://blog.example/new"); got != want {
		t.Errorf("For(a new url) = %+v, want %+v", got, want)
	}
}
