package config

import (
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	sourceKeys := []string{"name", "url", "title", "categories", "schedule", "retention", "full_text", "content", "rewrite", "priority", "websub", "respect_cache", "type", "items"}
	descriptors := []string{"@every", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}
	tests := []struct {
		name, word string
		candidates []string
		want       string
	}{
		{"a letter left out", "full_txt", sourceKeys, "full_text"},
		{"two letters swapped", "titel", sourceKeys, "title"},
		{"a letter doubled", "schedulle", sourceKeys, "schedule"},
		{"a dash for an underscore", "respect-cache", sourceKeys, "respect_cache"},
		{"case", "URL", sourceKeys, "url"},
		{"two edits", "retenshun", sourceKeys, ""},
		{"two edits in a long word", "retentoin", sourceKeys, "retention"},
		{"a prefix", "categ", sourceKeys, "categories"},
		{"a short prefix is no hint", "ca", sourceKeys, ""},
		{"the closest wins over a prefix", "item", sourceKeys, "items"},
		{"nothing close", "verbose", sourceKeys, ""},
		{"a short word needs one edit", "urn", sourceKeys, "url"},
		{"a short word two edits away", "uxy", []string{"url"}, ""},
		{"already right", "title", sourceKeys, ""},
		{"empty", "", sourceKeys, ""},
		{"no candidates", "title", nil, ""},
		{"cron every", "@evry", descriptors, "@every"},
		{"cron hourly", "@hourley", descriptors, "@hourly"},
		{"cron annually", "@anually", descriptors, "@annually"},
		{"cron midnight", "@midnigt", descriptors, "@midnight"},
		{"cron unknown", "@fortnightly", descriptors, ""},
		{"first of equals", "ab", []string{"aa", "bb"}, "aa"},
		{"runes", "çaféz", []string{"café"}, "café"},
		{"a long hostile word", strings.Repeat("x", 100000), sourceKeys, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Suggest(tt.word, tt.candidates); got != tt.want {
				t.Errorf("Suggest(%.20q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "", 1},
		{"kitten", "sitting", 3},
		{"ab", "ba", 1},
		{"ca", "abc", 3}, // optimal string alignment, not full Damerau
		{"full_txt", "full_text", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b, 10); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.a, tt.b, 1); got != min(tt.want, 1) {
			t.Errorf("editDistance(%q, %q, limit 1) = %d, want %d", tt.a, tt.b, got, min(tt.want, 1))
		}
	}
}

func FuzzSuggest(f *testing.F) {
	f.Add("full_txt", "full_text")
	f.Add("@evry", "@every")
	f.Fuzz(func(t *testing.T, word, candidate string) {
		got := Suggest(word, []string{candidate})
		if got != "" && got != candidate {
			t.Fatalf("Suggest(%q, [%q]) = %q: not a candidate", word, candidate, got)
		}
		if d := editDistance(word, candidate, 3); d != editDistance(candidate, word, 3) {
			t.Fatalf("editDistance is not symmetric on %q, %q", word, candidate)
		}
	})
}
