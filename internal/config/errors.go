package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem found in a configuration file.
type Error struct {
	// File is the file name exactly as it was passed to Load or Parse.
	File string
	// Line is the 1-based line the problem is on, or 0 when the problem has
	// no position (a few YAML syntax errors).
	Line int
	// Message names the field path and the culprit value, for example
	// `sources[3].url: not an absolute http(s) URL: "ftp://example.com/x"`.
	Message string
}

// Error formats the problem the way compilers do, "file:line: message", so
// editors and terminals can jump to it.
func (e Error) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Message
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Message
}

// Errors is every problem found in a configuration file, in line order. Load
// and Parse return it (never empty) as their error, so a user fixes all
// problems in one pass; use errors.As to get at the elements.
type Errors []Error

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted returns the errors in line order; problems found on the same line
// keep the order in which they were found.
func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b Error) int { return cmp.Compare(a.Line, b.Line) })
	return out
}
