package testkit

import "testing"

// TestImageProblem keeps the image rule of CheckInvariants and
// HostileItemProblems honest: it must see what it is there to see.
func TestImageProblem(t *testing.T) {
	tests := []struct {
		image string
		bad   bool
	}{
		{"", false},
		{"https://img.example/a.jpg", false},
		{"http://img.example/a.jpg?w=1&sig=x", false},
		{"/a.jpg", true},
		{"img.example/a.jpg", true},
		{"javascript:alert(1)", true},
		{"data:image/png;base64,AAAA", true},
		{"https:///a.jpg", true},
		{"https://img.example/a b.jpg", true},
		{`https://img.example/a".jpg`, true},
		{"https://user:pw@img.example/a.jpg", true},
	}
	for _, tc := range tests {
		if got := ImageProblem(tc.image); (got != "") != tc.bad {
			t.Errorf("ImageProblem(%q) = %q, want a problem: %v", tc.image, got, tc.bad)
		}
	}
}
