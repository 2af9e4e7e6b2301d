package feed

import "testing"

func TestCommonCause(t *testing.T) {
	tests := []struct {
		name   string
		causes []Cause
		want   Cause
	}{
		{"none", nil, ""},
		{"one source is no outage", []Cause{CauseNoHost}, ""},
		{"all alike", []Cause{CauseNoHost, CauseNoHost, CauseNoHost}, CauseNoHost},
		{"one works", []Cause{CauseNoHost, "", CauseNoHost}, ""},
		{"two causes", []Cause{CauseNoHost, CauseRefused}, ""},
		{"servers answering are not this machine's trouble", []Cause{CauseHTTP, CauseHTTP}, ""},
		{"unknown values", []Cause{"-", "-"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CommonCause(tc.causes)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("CommonCause(%q) = %q, %v; want %q", tc.causes, got, ok, tc.want)
			}
		})
	}
}

// TestCauseWords: every cause has its words, leading with what happened
// and then, after a colon, what to check.
func TestCauseWords(t *testing.T) {
	for c, w := range causeWords {
		if c == CauseHTTP {
			continue
		}
		if w == "" || !containsColon(w) {
			t.Errorf("cause %q: words %q, want what happened: what to check", c, w)
		}
	}
}

func containsColon(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && s[i+1] == ' ' {
			return true
		}
	}
	return false
}
