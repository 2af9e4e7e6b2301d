package normalize

import (
	"html"
	"strings"
)

// The string-level rules the tree-level ones replaced (see tree_test.go),
// kept here as the oracles those are held to.

// hasVisibleContent reports whether sanitized HTML shows anything: text or
// an image, media element or video player.
func hasVisibleContent(s string) bool {
	if s == "" {
		return false
	}
	if strings.Contains(s, "<img") || strings.Contains(s, "<video") || strings.Contains(s, "<audio") || strings.Contains(s, "<picture") || strings.Contains(s, "<iframe") {
		return true
	}
	return cleanText(s) != ""
}

// textToHTML turns plain text into HTML that reads the same: escaped, with
// blank lines as paragraph breaks and single newlines as line breaks. The
// plain-text path (plainTextTree) builds the tree of its result directly.
func textToHTML(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	for _, para := range blankLines.Split(s, -1) {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(strings.TrimSpace(line)))
		}
		b.WriteString("</p>")
	}
	return b.String()
}
