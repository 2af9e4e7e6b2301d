package testkit

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the one -update flag of every package whose tests keep golden
// files: `go test ./internal/X -update` rewrites X's goldens. It is defined
// here only, so that no package registers it twice.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Golden compares got with the golden file at path, failing t when they
// differ. With -update it writes got to path (making its directory) instead.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update to accept); got:\n%s", path, got)
	}
}
