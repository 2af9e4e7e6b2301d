package normalize

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"github.com/feedmill/feedmill/internal/feed"
)

// corpusDir is the shared corpus of third-party feeds, relative to this
// package's directory.
const corpusDir = "../../../shared/corpus"

type corpusRow struct {
	path, format, wellformed, encoding, entries string
}

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
			for _, name := range []string{"path", "format_guess", "wellformed", "encoding_declared", "feedparser_entries"} {
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
		rows = append(rows, corpusRow{get("path"), get("format_guess"), get("wellformed"), get("encoding_declared"), get("feedparser_entries")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCorpus runs every corpus document through Normalize. None may panic.
// Well-formed RSS, Atom and JSON feeds must parse, and the result must keep
// Normalize's promises; entry counts that differ from feedparser's are only
// logged, since the two parsers disagree on fragments by design. Ill-formed
// documents may fail, but only with an error.
func TestCorpus(t *testing.T) {
	rows := readManifest(t)
	n := New(Options{})
	for _, row := range rows {
		t.Run(row.path, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpusDir, row.path))
			if err != nil {
				t.Fatal(err)
			}
			// Normalize takes UTF-8 bodies, as internal/fetch delivers them.
			body := toUTF8(raw, row.encoding)
			f, err := n.Normalize(feed.Source{Name: "corpus"}, body, "https://corpus.example/feeds/feed.xml", testNow)

			wellformed := strings.HasPrefix(row.wellformed, "yes")
			mustRead := wellformed && gofeedReads(row.format)
			switch {
			case err != nil && mustRead:
				t.Errorf("well-formed %s: %v", row.format, err)
			case err != nil:
				t.Logf("%s (wellformed %s): %v", row.format, row.wellformed, err)
			default:
				checkInvariants(t, f)
			}
			if err == nil && wellformed && (strings.HasPrefix(row.format, "rss") || strings.HasPrefix(row.format, "atom")) {
				if want, convErr := strconv.Atoi(row.entries); convErr == nil && want != len(f.Items) {
					t.Logf("%d items, feedparser counts %d", len(f.Items), want)
				}
			}
		})
	}
}

// gofeedReads reports whether a document of the manifest's format guess is
// one gofeed should read: RSS (0.9x, 1.0, 2.0), Atom and JSON Feed. RSS 1.1,
// CDF, Atom entry documents and non-feeds are not.
func gofeedReads(format string) bool {
	switch {
	case strings.Contains(format, "(sniffed)"), format == "rss11":
		return false
	case strings.HasPrefix(format, "rss"), format == "atom10", format == "atom03",
		format == "json10", format == "json11", strings.HasPrefix(format, "json-nonspec"):
		return true
	}
	return false
}

// toUTF8 converts a corpus document to UTF-8 as internal/fetch would: by its
// byte order mark, else by the manifest's declared encoding. A document that
// cannot be converted is returned unchanged.
func toUTF8(raw []byte, declared string) []byte {
	label := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(declared), "-bom"), "-nobom")
	if label == "utf-32" {
		return fromUTF32(raw) // UTF-32 text of ASCII is valid UTF-8 too
	}
	if utf8.Valid(raw) || label == "-" || label == "" {
		return raw
	}
	enc, _ := charset.Lookup(label)
	if enc == nil {
		return raw
	}
	out, err := io.ReadAll(enc.NewDecoder().Reader(bytes.NewReader(raw)))
	if err != nil {
		return raw
	}
	return out
}

// fromUTF32 decodes UTF-32 (with or without a byte order mark, either byte
// order; the order is taken from where the first character's zero bytes
// are), which x/net/html/charset does not know.
func fromUTF32(raw []byte) []byte {
	if len(raw) < 4 || len(raw)%4 != 0 {
		return raw
	}
	bigEndian := raw[0] == 0 && raw[1] == 0
	var out []byte
	for i := 0; i < len(raw); i += 4 {
		var r rune
		if bigEndian {
			r = rune(raw[i])<<24 | rune(raw[i+1])<<16 | rune(raw[i+2])<<8 | rune(raw[i+3])
		} else {
			r = rune(raw[i+3])<<24 | rune(raw[i+2])<<16 | rune(raw[i+1])<<8 | rune(raw[i])
		}
		if r == 0xFEFF && i == 0 {
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}
