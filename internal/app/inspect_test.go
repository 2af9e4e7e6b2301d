package app

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// harbourSource serves testdata/inspect/harbour.xml and writes a config
// with it as source "harbour" and the store at dsn; it returns the
// config's path.
func harbourSource(t *testing.T, dir, dsn string) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "inspect", "harbour.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(dir, "feeds.yaml")
	cfg := fmt.Sprintf("storage:\n  dsn: %s\nfetch:\n  min_gap: 0s\nsources:\n  - name: harbour\n    url: %s/feed.xml\n", dsn, srv.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPreviewStoresNothing: `feedmill preview` creates no database where
// the config's storage says, and leaves one that is there (an older
// feedmill's, not yet migrated) as it was, byte for byte.
func TestPreviewStoresNothing(t *testing.T) {
	tests := []struct {
		name string
		// before makes what is at the store's path before the preview;
		// nil leaves nothing there.
		before func(t *testing.T, path string)
	}{
		{name: "no database yet"},
		{name: "an older database", before: func(t *testing.T, path string) {
			// A database at schema version 1 that no feedmill would read
			// without migrating it first.
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range []string{"CREATE TABLE old_items (id TEXT PRIMARY KEY)", "PRAGMA user_version = 1"} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "feedmill.db")
			if tc.before != nil {
				tc.before(t, dbPath)
			}
			was, wasErr := os.ReadFile(dbPath)
			path := harbourSource(t, dir, "feedmill.db")

			var out, errOut bytes.Buffer
			if err := Run(t.Context(), []string{"preview", "-config", path, "harbour"}, &out, &errOut); err != nil {
				t.Fatalf("preview: %v\n%s", err, errOut.String())
			}
			if !strings.Contains(out.String(), "== Ferry fares frozen for the winter") {
				t.Errorf("preview does not show the source's items:\n%s", out.String())
			}
			is, isErr := os.ReadFile(dbPath)
			switch {
			case errors.Is(wasErr, fs.ErrNotExist) && !errors.Is(isErr, fs.ErrNotExist):
				t.Errorf("preview created the database %s (%v)", dbPath, isErr)
			case wasErr == nil && (isErr != nil || !bytes.Equal(was, is)):
				t.Errorf("preview changed the database %s (%v)", dbPath, isErr)
			}
			for _, side := range []string{"-wal", "-shm", "-journal"} {
				if _, err := os.Stat(dbPath + side); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("preview opened the database: %s%s is there (%v)", dbPath, side, err)
				}
			}
		})
	}
}

// TestExplainFindsLinks: `feedmill explain SOURCE ITEM` finds a stored
// item by its link as a person has it: copied from the source's feed (with
// its tracking parameters) or a browser (http or https, a trailing slash,
// a fragment, the host in capitals).
func TestExplainFindsLinks(t *testing.T) {
	dir := t.TempDir()
	path := harbourSource(t, dir, "feedmill.db")
	var errOut bytes.Buffer
	if err := Run(t.Context(), []string{"fetch", "-config", path}, &bytes.Buffer{}, &errOut); err != nil {
		t.Fatalf("fetch: %v\n%s", err, errOut.String())
	}
	const (
		ferry      = "Ferry fares frozen for the winter"
		lighthouse = "Lighthouse open day draws a crowd"
		market     = "Market hall gets new tenants"
	)
	tests := []struct {
		name, item string
		want       string // the title explained; "" for no item
	}{
		{"id", "harbour-103", market},
		{"link as stored", "https://harbour.example/news/market-hall", market},
		{"link as in the feed, with utm parameters", "https://harbour.example/news/ferry-fares-frozen/?utm_source=rss&utm_medium=feed", ferry},
		{"link without its tracking parameters", "https://harbour.example/news/ferry-fares-frozen/", ferry},
		{"http for https", "http://harbour.example/news/ferry-fares-frozen/", ferry},
		{"no trailing slash", "https://harbour.example/news/ferry-fares-frozen", ferry},
		{"a trailing slash the feed has not", "https://harbour.example/news/market-hall/", market},
		{"fragment", "https://harbour.example/news/market-hall#comments", market},
		{"host in capitals", "https://HARBOUR.EXAMPLE/news/market-hall", market},
		{"link as in the feed, with fbclid", "http://Harbour.example/news/lighthouse?id=7&fbclid=IwAR0abc", lighthouse},
		{"https and no click id", "https://harbour.example/news/lighthouse?id=7", lighthouse},
		{"a referrer tag added", "https://harbour.example/news/market-hall?ref=rss", market},
		{"another page's parameters", "https://harbour.example/news/lighthouse?id=8", ""},
		{"path in another case", "https://harbour.example/news/Market-Hall", ""},
		{"another host", "https://other.example/news/market-hall", ""},
		{"unknown id", "harbour-999", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(t.Context(), []string{"explain", "-config", path, "harbour", tc.item}, &out, &errOut)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "no stored item") {
					t.Errorf("explain %s: %v, want no stored item\n%s", tc.item, err, out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("explain %s: %v\n%s", tc.item, err, errOut.String())
			}
			if !strings.Contains(out.String(), "\n== "+tc.want+"\n") {
				t.Errorf("explain %s does not explain %q:\n%s", tc.item, tc.want, out.String())
			}
		})
	}
}
