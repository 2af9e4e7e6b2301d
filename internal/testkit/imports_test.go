package testkit

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNoInternalButFeed keeps testkit importable by the tests of
// every package: were it to import internal/X, X's in-package tests could
// not import it (an import cycle). Modules outside feedmill are fine.
func TestImportsNoInternalButFeed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/feedmill/feedmill/") && path != "github.com/feedmill/feedmill/internal/feed" {
				t.Errorf("%s imports %s; testkit may import no feedmill package but internal/feed", name, path)
			}
		}
	}
}
