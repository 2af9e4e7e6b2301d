package testkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// FeedcheckTool returns the path of the shared feedcheck tool, which
// judges a feed file as real readers do (its last line is "feedcheck: OK"
// or "feedcheck: FAIL"). The tool lives in ../shared/tools/feedcheck
// beside the module's root, so the answer does not depend on how deep the
// calling test's package is. It returns an error saying why where the
// tool cannot run: users' clones have no ../shared, and the tool runs on
// Linux only.
func FeedcheckTool() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("feedcheck: %w", err)
	}
	root, err := moduleRoot(dir)
	if err != nil {
		return "", fmt.Errorf("feedcheck: %w", err)
	}
	path := filepath.Join(filepath.Dir(root), "shared", "tools", "feedcheck")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("feedcheck not found at %s (../shared is absent in users' clones): %w", path, err)
	}
	if runtime.GOOS != "linux" {
		return "", errors.New("feedcheck runs on Linux only")
	}
	return path, nil
}

// Feedcheck returns FeedcheckTool's path, and skips the test, saying why,
// where the tool cannot run.
func Feedcheck(t testing.TB) string {
	t.Helper()
	path, err := FeedcheckTool()
	if err != nil {
		t.Skip(err)
	}
	return path
}

// moduleRoot returns the nearest directory from dir upwards that holds a
// go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or above", dir)
		}
		d = parent
	}
}
