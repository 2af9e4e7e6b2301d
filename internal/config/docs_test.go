package config

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The repository's root, seen from this package's directory.
const repoRoot = "../.."

// The Markdown pages users and contributors read: the front page, the
// contributor's guide and every page under docs/.
func markdownPages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"README.md", "CONTRIBUTING.md"}
	for _, d := range docs {
		pages = append(pages, path.Join("docs", filepath.Base(d)))
	}
	return pages
}

var (
	fence      = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```[^\\n]*$")
	mdLink     = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	htmlLink   = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	hasScheme  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)
	slugDashes = strings.NewReplacer(" ", "-")
)

// withoutCode returns a Markdown text without its fenced code blocks, in
// which neither links nor headings are what they look like.
func withoutCode(md string) string {
	return fence.ReplaceAllString(md, "")
}

// anchors returns the fragment ids GitHub gives the headings of md: the
// heading's text in lower case, without punctuation, spaces as dashes.
func anchors(md string) map[string]bool {
	ids := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(withoutCode(md), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '-' || r == '_' {
				b.WriteRune(r)
			}
		}
		ids[slugDashes.Replace(b.String())] = true
	}
	return ids
}

// TestDocsLinks checks that every relative link of the README, CONTRIBUTING.md
// and docs/*.md leads to a file of the repository, and to a heading of it
// when it names one, so that moving a section cannot leave a link behind;
// and that the README links every page under docs/, so none is orphaned.
func TestDocsLinks(t *testing.T) {
	readmeLinks := map[string]bool{}
	for _, page := range markdownPages(t) {
		text, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Error(err)
			continue
		}
		prose := withoutCode(string(text))
		var targets []string
		for _, re := range []*regexp.Regexp{mdLink, htmlLink} {
			for _, m := range re.FindAllStringSubmatch(prose, -1) {
				targets = append(targets, m[1])
			}
		}
		for _, target := range targets {
			if hasScheme.MatchString(target) {
				continue // a web address: not ours to check offline
			}
			file, anchor, _ := strings.Cut(target, "#")
			if file == "" {
				file = page
			} else {
				file = path.Join(path.Dir(page), file)
			}
			if page == "README.md" {
				readmeLinks[file] = true
			}
			if strings.HasPrefix(file, "../") {
				t.Errorf("%s: link %q leads out of the repository", page, target)
				continue
			}
			linked, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(file)))
			if err != nil {
				if info, statErr := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(file))); statErr == nil && info.IsDir() && anchor == "" {
					continue // a directory
				}
				t.Errorf("%s: link %q: %s does not exist", page, target, file)
				continue
			}
			if anchor != "" && strings.HasSuffix(file, ".md") && !anchors(string(linked))[anchor] {
				t.Errorf("%s: link %q: %s has no heading #%s", page, target, file, anchor)
			}
		}
	}
	for _, page := range markdownPages(t) {
		if strings.HasPrefix(page, "docs/") && !readmeLinks[page] {
			t.Errorf("README.md does not link %s", page)
		}
	}
}

// TestContributingPackageMap keeps CONTRIBUTING.md's package map true: every
// directory of Go files under cmd/, internal/ and bench/ has its row, and
// every row names a directory that exists, so a package added, moved or
// removed without the map failing here cannot happen.
func TestContributingPackageMap(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(repoRoot, "CONTRIBUTING.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(text), "\n## Package map\n")
	if !ok {
		t.Fatal(`CONTRIBUTING.md has no "## Package map" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	mapped := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
		dir := strings.TrimSuffix(cell, "/")
		if mapped[dir] {
			t.Errorf("the package map names %s twice", dir)
		}
		mapped[dir] = true
		if info, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(dir))); err != nil || !info.IsDir() {
			t.Errorf("the package map names %s, which is not a directory (moved or removed?)", dir)
		}
	}

	var packages []string
	for _, top := range []string{"cmd", "internal", "bench"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".go") {
				return nil
			}
			rel, err := filepath.Rel(repoRoot, filepath.Dir(p))
			if err != nil {
				return err
			}
			if dir := filepath.ToSlash(rel); !slices.Contains(packages, dir) {
				packages = append(packages, dir)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(packages) < 10 {
		t.Fatalf("found only %d packages (%v): is the walk looking in the right place?", len(packages), packages)
	}
	for _, dir := range packages {
		if !mapped[dir] {
			t.Errorf("%s is not in CONTRIBUTING.md's package map: add a row saying what it owns and which changes go there", dir)
		}
	}
}

// Where a comment of the "Every key" reference names a key's default:
// "(default 30s)", "(default 20, 0..1000)", "(default 1s; 0: none)",
// "(default 0: no limit)",
// "# default 127.0.0.1:8080" at the end, or "sqlite (default)" among the
// choices. A default in words ("default: from listen") is not a value.
var (
	defaultInParens = regexp.MustCompile(`\(default ([^\s:;,)]+)[:;,)]`)
	defaultAtEnd    = regexp.MustCompile(`#\s*default (\S+)\s*$`)
	defaultChoice   = regexp.MustCompile(`(\S+) \(default\)`)
	refKey          = regexp.MustCompile(`^(\s*)(- )?([a-z_]+):`)
)

// TestDocumentedDefaults keeps the defaults docs/configuration.md states
// equal to those Parse fills in (feed's table and config's own): for every
// key of the reference whose comment names a default, a file that sets the
// key to it must parse to the same Config as one that leaves it out. Keys
// of top-level sections, of a source and of a published feed are checked;
// those nested deeper (rewrite, items) are not.
func TestDocumentedDefaults(t *testing.T) {
	block := yamlExample(t, filepath.Join(repoRoot, "docs", "configuration.md"), "## Every key")
	const source = "sources:\n  - name: a\n    url: https://a.example/feed\n"
	const feeds = "feeds:\n  - name: all\n    sources: [\"*\"]\n"
	var section, sub string // the top-level key the line is in, and its second-level mapping
	checked := 0
	for line := range strings.SplitSeq(block, "\n") {
		m := refKey.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		indent, key := len(m[1]), m[3]
		switch {
		case indent == 0:
			section, sub = key, ""
		case indent == 2 && m[2] == "":
			sub = key
		}
		var value string
		for _, re := range []*regexp.Regexp{defaultInParens, defaultAtEnd, defaultChoice} {
			if v := re.FindStringSubmatch(line); v != nil {
				value = v[1]
				break
			}
		}
		if value == "" {
			continue
		}
		var base, set, name string
		switch {
		case indent == 0:
			name, base, set = key, source, key+": "+value+"\n"+source
		case section == "sources" && indent <= 4:
			name, base, set = "sources[]."+key, source, source+"    "+key+": "+value+"\n"
		case section == "feeds" && indent <= 4:
			name, base, set = "feeds[]."+key, source+feeds, source+feeds+"    "+key+": "+value+"\n"
		case indent == 2:
			name, base, set = section+"."+key, source, section+":\n  "+key+": "+value+"\n"+source
		case indent == 4 && sub != "":
			name, base, set = section+"."+sub+"."+key, source, section+":\n  "+sub+":\n    "+key+": "+value+"\n"+source
		default:
			continue
		}
		checked++
		want, err := Parse([]byte(base), "feeds.yaml")
		if err != nil {
			t.Fatalf("%s: the file without the key does not parse: %v", name, err)
		}
		got, err := Parse([]byte(set), "feeds.yaml")
		if err != nil {
			t.Errorf("%s: the documented default %s does not parse: %v", name, value, err)
			continue
		}
		// Only the value is compared, not where the file put things.
		for i := range got.Sources {
			got.Sources[i].Line = want.Sources[i].Line
		}
		for i := range got.Feeds {
			got.Feeds[i].Line = want.Feeds[i].Line
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: docs/configuration.md says its default is %s, but leaving it out gives another config:\nset   %+v\nunset %+v", name, value, got, want)
		}
	}
	if checked < 30 {
		t.Errorf("only %d documented defaults found in the reference; the comments' form changed?", checked)
	}
}
