package normalize

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/store"
)

// corpusDir is the shared corpus of third-party feeds, relative to this
// package's directory.
const corpusDir = "../../../shared/corpus"

// corpusRow is one row of the corpus MANIFEST.tsv (see its README).
type corpusRow struct {
	path        string
	format      string // format_guess
	wellformed  string // xmllint's (or Python json's) verdict
	fpVersion   string // feedparser_version: "?" when it found no feed, "-" for JSON
	fpBozo      string // feedparser_bozo: "0", or "1:<exception>"
	fpEntries   string // feedparser_entries
	itemsDirect string // items_direct: counted in the parsed document, "-" when unknown
	headers     string // origin_http_headers: one "Name: value" header the origin serves it with, or "-"
}

// corpusExceptions lists corpus files, by path, whose item count may differ
// from the reference (feedparser's, or items_direct for JSON), each with the
// reason: only genuine gofeed limitations that feedmill cannot reasonably
// work around belong here. A listed file whose count matches fails the test
// so that the table never outlives its reasons.
var corpusExceptions = map[string]string{}

// readManifest reads the corpus MANIFEST.tsv, or skips t when the corpus is
// not on this machine.
func readManifest(t *testing.T) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no feed corpus at %s", corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []corpusRow
	col := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(col) == 0 {
			for i, name := range fields {
				col[name] = i
			}
			for _, name := range []string{"path", "format_guess", "wellformed", "feedparser_version",
				"feedparser_bozo", "feedparser_entries", "items_direct", "origin_http_headers"} {
				if _, ok := col[name]; !ok {
					t.Fatalf("MANIFEST.tsv has no %q column", name)
				}
			}
			continue
		}
		get := func(name string) string {
			if i := col[name]; i < len(fields) {
				return fields[i]
			}
			return ""
		}
		rows = append(rows, corpusRow{
			path:        get("path"),
			format:      get("format_guess"),
			wellformed:  get("wellformed"),
			fpVersion:   get("feedparser_version"),
			fpBozo:      get("feedparser_bozo"),
			fpEntries:   get("feedparser_entries"),
			itemsDirect: get("items_direct"),
			headers:     get("origin_http_headers"),
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("MANIFEST.tsv lists no files")
	}
	return rows
}

// reference returns the item count a document must yield and who says so:
// feedparser's entry count for a document feedparser reads as a well-formed
// feed (no bozo, a detected version), or items_direct for a well-formed JSON
// document (this feedparser reads no JSON). ok is false for every other
// document: an ill-formed one, or one that is no feed to feedparser. A
// count the manifest should have but does not give is an error.
func (r corpusRow) reference() (want int, by string, ok bool, err error) {
	count := func(s, by string) (int, string, bool, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, by, false, fmt.Errorf("manifest: %s count %q: %w", by, s, err)
		}
		return n, by, true, nil
	}
	switch {
	case r.fpBozo == "0" && r.fpVersion != "?" && r.fpVersion != "-" && r.fpVersion != "":
		return count(r.fpEntries, "feedparser "+r.fpVersion)
	case r.wellformed == "yes(json)":
		return count(r.itemsDirect, "items_direct")
	}
	return 0, "", false, nil
}

// contentType returns the Content-Type the origin serves the document with,
// or "" when it names none.
func (r corpusRow) contentType() string {
	name, value, ok := strings.Cut(r.headers, ":")
	if ok && textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) == "Content-Type" {
		return strings.TrimSpace(value)
	}
	return ""
}

// TestCorpus ingests every corpus document the way feedmill ingests a
// fetched body: fetch's charset conversion (fetch.ToUTF8, with the
// Content-Type the origin serves it with), Normalize, then a real SQLite
// store. None may panic. A document with a reference count (see
// corpusRow.reference) must be ingested without error, keep Normalize's
// promises, and yield the reference count of items; when the only
// difference is the items Normalize dropped for repeating an id, the count
// still matches and the test says so. Any other difference fails unless
// corpusExceptions explains it. A document without a reference (ill-formed,
// or not a feed) may fail with an error that names the source, or give a
// best-effort result, which must then be ingested too; the test logs which.
func TestCorpus(t *testing.T) {
	rows := readManifest(t)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "corpus.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})

	n := New(Options{})
	matched, dupMatched, excepted, refused, bestEffort := 0, 0, 0, 0, 0
	for i, row := range rows {
		t.Run(row.path, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpusDir, row.path))
			if err != nil {
				t.Fatal(err)
			}
			// Each document is its own source, so that stored items of
			// different documents never meet.
			src := feed.Source{Name: fmt.Sprintf("corpus-%03d", i)}
			body := fetch.ToUTF8(raw, row.contentType())
			want, by, hasRef, err := row.reference()
			if err != nil {
				t.Fatal(err)
			}
			f, err := n.Normalize(src, body, "https://corpus.example/feeds/feed.xml", testNow)

			if !hasRef {
				if err != nil {
					if !strings.Contains(err.Error(), src.Name) {
						t.Errorf("error does not name the source %q: %v", src.Name, err)
					}
					refused++
					t.Logf("%s (wellformed %s, feedparser %s %s): refused: %v",
						row.format, row.wellformed, row.fpVersion, row.fpBozo, err)
					return
				}
				checkInvariants(t, f)
				ingest(ctx, t, st, src, f)
				bestEffort++
				t.Logf("%s (wellformed %s, feedparser %s %s): best effort, %d items",
					row.format, row.wellformed, row.fpVersion, row.fpBozo, len(f.Items))
				return
			}

			if err != nil {
				t.Fatalf("%s reads it as a feed of %d entries, Normalize fails: %v", by, want, err)
			}
			checkInvariants(t, f)
			ingest(ctx, t, st, src, f)

			got := len(f.Items)
			reason, isException := corpusExceptions[row.path]
			switch {
			case got == want:
				matched++
				if isException {
					t.Errorf("listed in corpusExceptions (%s), but %d items match %s now: remove it", reason, got, by)
				}
			case got+f.Duplicates == want:
				dupMatched++
				t.Logf("%d items after dropping %d with a repeated id; %s counts %d", got, f.Duplicates, by, want)
				if isException {
					t.Errorf("listed in corpusExceptions (%s), but matches now: remove it", reason)
				}
			case isException:
				excepted++
				t.Logf("%d items, %s counts %d: known exception: %s", got, by, want, reason)
			default:
				t.Errorf("%s: %d items (%d dropped duplicates), %s counts %d", row.path, got, f.Duplicates, by, want)
			}
		})
	}
	t.Logf("%d documents: %d match their reference count, %d after dropped duplicates, %d known exceptions; "+
		"without a reference: %d refused, %d best effort", len(rows), matched, dupMatched, excepted, refused, bestEffort)
}

// ingest stores f's items as a refresh would and checks that the store
// holds exactly them afterwards.
func ingest(ctx context.Context, t *testing.T, st *store.SQLite, src feed.Source, f *Feed) {
	t.Helper()
	res, err := st.SaveItems(ctx, src.Name, f.Items, max(len(f.Items), src.Keep()), testNow)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	if res.New != len(f.Items) {
		t.Errorf("store: %d new items, want %d", res.New, len(f.Items))
	}
	stored, err := st.Items(ctx, feed.Query{Sources: []string{src.Name}})
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	if len(stored) != len(f.Items) {
		t.Errorf("store holds %d items, want %d", len(stored), len(f.Items))
	}
}
