package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"

	"github.com/feedmill/feedmill/internal/feed"
)

// maxImportedName is the longest name Import makes for a source.
const maxImportedName = 40

// Import adds the feeds of an OPML 1.0 or 2.0 subscription list (opml: the
// bytes of a feed reader's export) as sources to the feeds.yaml at path. It
// returns the names of the sources it added, in OPML order, and the URLs of
// the feeds it skipped because a source already has that URL (compared
// after trimming spaces, exactly otherwise).
//
// The file is edited, not rewritten: one mapping per new source is appended
// to the sources list, in the list's own indentation and spacing (a
// sources list is created at the end of the file when there is none), and
// every other byte of the file stays as it was, comments included. A new
// source gets a unique name made from the feed's title (else from its
// host), or the name feedmill's own OPML export gives it (feedmillName), a title when the OPML's differs from that name, and as categories
// the OPML folders it sits in and its category attribute. The result must
// pass Parse, or the file is left untouched and the error says why. It is
// written atomically: a temporary file in the same directory, synced, then
// renamed over the original (or over the file a symbolic link at path
// points to) with the original's permissions. When no feed is new, nothing
// is written.
//
// An error about the OPML document starts with what is wrong with it ("not
// an OPML file: ...", "no feeds in the OPML file: ..."); the caller knows
// its file name and should add it.
func Import(path string, opml []byte) (added, skipped []string, err error) {
	feeds, err := parseOPML(opml)
	if err != nil {
		return nil, nil, err
	}
	err = editSources(path, func(names []string, urls map[string]bool) ([]importedSource, error) {
		used := make(map[string]bool)
		for _, n := range names {
			// Names differing only in case would be two sources that
			// read as one on the status page and in item ids.
			used[strings.ToLower(n)] = true
		}
		var news []importedSource
		for _, f := range feeds {
			if urls[f.URL] {
				skipped = append(skipped, f.URL)
				continue
			}
			base := sourceName(f)
			if f.Name != "" {
				base = f.Name
			}
			name := uniqueName(base, used)
			title := f.Title
			if title == name {
				title = ""
			}
			news = append(news, importedSource{name: name, url: f.URL, typ: f.Type, title: title, categories: f.Categories})
			added = append(added, name)
		}
		return news, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return added, skipped, nil
}

// editSources appends to the sources of the feeds.yaml at path the
// entries choose returns, given the names and (trimmed) URLs of the
// sources the file has: the one way feedmill edits a config, for Import
// and AddSource. The file is edited, not rewritten (see Import), the
// result must pass Parse with exactly the old sources and then the new,
// and it replaces the file atomically. When choose returns no entry (or an
// error), nothing is written.
func editSources(path string, choose func(names []string, urls map[string]bool) ([]importedSource, error)) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("import into %s: %w", path, err)
	}
	before, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("import into %s: %w", path, err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return fmt.Errorf("import into %s: %w", path, err)
	}
	ed, err := planImport(data)
	if err != nil {
		return fmt.Errorf("import into %s: %w", path, err)
	}
	news, err := choose(ed.names, ed.urls)
	if err != nil || len(news) == 0 {
		return err
	}

	out, err := ed.apply(data, news)
	if err != nil {
		return fmt.Errorf("import into %s: %w", path, err)
	}
	names := slices.Clone(ed.names)
	for _, s := range news {
		names = append(names, s.name)
	}
	if err := checkImported(data, out, path, names); err != nil {
		return err
	}
	if err := replaceFile(target, out, before); err != nil {
		return fmt.Errorf("import into %s: %w", path, err)
	}
	return nil
}

// importedSource is a source Import or AddSource appends.
type importedSource struct {
	name, url, title string
	categories       []string
	typ              string          // feed.TypeHTML or feed.TypeJSON, written when set; "" for a feed
	items            *feed.ItemRules // its non-empty fields written when set
	fullText         bool            // full_text: true written when set
}

// checkImported makes sure out, the edited file, is a valid config whose
// sources are exactly names, in order: the existing ones, then the new.
// The second check guards the splice: entries put in the wrong place would
// likely not parse, but if they did, they would not be the sources list.
func checkImported(data, out []byte, path string, names []string) error {
	c, err := Parse(out, path)
	if err != nil {
		if _, orig := Parse(data, path); orig != nil {
			return fmt.Errorf("import into %s: fix the file first (nothing was written):\n%w", path, orig)
		}
		return fmt.Errorf("import into %s: the result would not be valid, so nothing was written:\n%w", path, err)
	}
	got := make([]string, len(c.Sources))
	for i, s := range c.Sources {
		got[i] = s.Name
	}
	if !slices.Equal(got, names) {
		return fmt.Errorf("import into %s: could not place the new sources in the file's layout, so nothing was written; add them by hand or simplify the sources list", path)
	}
	return nil
}

// SourceName is the name `import` gives a feed titled title at feedURL
// when used (lower-case names) already holds the names taken: see
// sourceName and uniqueName. It does not mark the name used. `feedmill add`
// names its source the same way.
func SourceName(title, feedURL string, used map[string]bool) string {
	name := sourceName(opmlFeed{Title: title, URL: feedURL})
	taken := make(map[string]bool, len(used)+1)
	for k := range used {
		taken[k] = true
	}
	return uniqueName(name, taken)
}

// sourceName makes a source name from a feed's title, else from its host:
// lower-case ASCII letters and digits, every other run of characters one
// '-', at most maxImportedName long.
func sourceName(f opmlFeed) string {
	if name := slug(f.Title); name != "" {
		return name
	}
	if u, err := url.Parse(f.URL); err == nil {
		if name := slug(strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")); name != "" {
			return name
		}
	}
	return "feed"
}

// slug reduces s to a source name. Accents are dropped rather than turned
// into breaks ("Café" is "cafe", not "caf"), and so are apostrophes
// ("Joel's" is "joels").
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(latinLetters.Replace(s)) {
		switch {
		case unicode.Is(unicode.Mn, r), r == '\'', r == '’':
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return trimName(b.String(), maxImportedName)
}

// latinLetters spells out the Latin letters that NFKD does not split into
// a base letter and an accent.
var latinLetters = strings.NewReplacer(
	"æ", "ae", "Æ", "AE", "œ", "oe", "Œ", "OE", "ø", "o", "Ø", "O", "ß", "ss",
	"đ", "d", "Đ", "D", "ð", "d", "Ð", "D", "ł", "l", "Ł", "L", "þ", "th", "Þ", "TH", "ı", "i",
)

// trimName cuts an ASCII name to at most n bytes and drops the dashes that
// would end it.
func trimName(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-")
}

// uniqueName returns base, or base with the first free suffix -2, -3, ...,
// still at most maxImportedName long, and marks it used.
func uniqueName(base string, used map[string]bool) string {
	name := base
	for n := 2; used[strings.ToLower(name)]; n++ {
		suffix := "-" + strconv.Itoa(n)
		name = trimName(base, maxImportedName-len(suffix)) + suffix
	}
	used[strings.ToLower(name)] = true
	return name
}

// importPlan says where and how new sources go into a feeds.yaml: the text
// in [start, end) is replaced by head followed by the entries.
type importPlan struct {
	names []string        // existing source names, in order
	urls  map[string]bool // existing source URLs, trimmed

	start, end int
	head       string
	dashIndent int  // columns before each entry's '-'
	keyIndent  int  // columns from the '-' to the entry's keys
	blankLines bool // the file separates entries with a blank line
	nl         string
}

// planImport finds the sources list of a feeds.yaml and how its entries
// are laid out. It handles a block list (the usual form), a sources key
// with no value, "~", "null" or "[]", and a file without one; a list in
// flow style or behind an alias is refused with a message saying so.
func planImport(data []byte) (*importPlan, error) {
	p := &importPlan{urls: make(map[string]bool), nl: "\n", dashIndent: 2, keyIndent: 2}
	if bytes.Contains(data, []byte("\r\n")) {
		p.nl = "\r\n"
	}
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\r")) {
		// yaml.v3 counts a lone CR as a line break; the line arithmetic
		// below does not.
		return nil, errors.New("the file has bare carriage returns as line breaks; save it with \\n or \\r\\n line endings first")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML, so it cannot be edited (run feedmill check): %w", err)
	}
	lines := splitLines(data)

	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root != nil && !isNull(root) {
		if root.Kind != yaml.MappingNode {
			return nil, errors.New("the top level is not a mapping of settings")
		}
		if root.Style&yaml.FlowStyle != 0 {
			return nil, errors.New("the top level is written in flow style ({...}); write it in block style to import")
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			key, val := root.Content[i], root.Content[i+1]
			if key.Kind != yaml.ScalarNode || key.Value != "sources" {
				continue
			}
			nextLine := 0
			if i+2 < len(root.Content) {
				nextLine = root.Content[i+2].Line
			}
			if err := p.planExisting(data, lines, key, val, nextLine); err != nil {
				return nil, err
			}
			return p, nil
		}
	}

	// No sources key: start one at the end of the file, after a blank line.
	p.start, p.end = len(data), len(data)
	switch {
	case len(data) == 0:
	case !bytes.HasSuffix(data, []byte("\n")):
		p.head = p.nl + p.nl
	case len(bytes.TrimSpace(data)) > 0 && !bytes.HasSuffix(data, []byte(p.nl+p.nl)):
		p.head = p.nl
	}
	p.head += "sources:" + p.nl
	return p, nil
}

// planExisting plans the insertion into the value val of the sources key
// key. nextLine is the line of the next top-level key, 0 if none.
func (p *importPlan) planExisting(data []byte, lines []lineSpan, key, val *yaml.Node, nextLine int) error {
	if val.Kind == yaml.AliasNode {
		return errors.New("sources is an alias (*name); write the list out to import")
	}
	switch {
	case isNull(val), val.Kind == yaml.SequenceNode && val.Style&yaml.FlowStyle != 0 && len(val.Content) == 0:
		return p.planEmpty(data, lines, key, val)
	case val.Kind != yaml.SequenceNode:
		return fmt.Errorf("line %d: sources is not a list", key.Line)
	case val.Style&yaml.FlowStyle != 0:
		return fmt.Errorf("line %d: sources is a flow list ([...]); write it as a block list, one \"- name: ...\" per source, to import", val.Line)
	}

	var lastItem *yaml.Node
	keyIndentSet := false
	for _, el := range val.Content {
		item := el
		if item.Kind == yaml.AliasNode && item.Alias != nil {
			item = item.Alias
		}
		if item.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind != yaml.ScalarNode {
				continue
			}
			switch k.Value {
			case "name":
				p.names = append(p.names, v.Value)
			case "url":
				p.urls[strings.TrimSpace(v.Value)] = true
			}
		}
		if el.Kind == yaml.MappingNode && el.Style&yaml.FlowStyle == 0 && !keyIndentSet && el.Line == val.Line {
			// The first entry's keys sit this far right of its dash.
			p.keyIndent, keyIndentSet = el.Column-val.Column, true
		}
		lastItem = el
	}
	if p.keyIndent < 2 {
		p.keyIndent = 2
	}
	p.dashIndent = val.Column - 1
	if n := len(val.Content); n >= 2 && lastItem != nil {
		prev := val.Content[n-1].Line - 1
		p.blankLines = prev >= 1 && prev <= len(lines) && strings.TrimSpace(lines[prev-1].text(data)) == ""
	}

	// The list ends at its last line with content, or with a comment
	// indented deeper than the sources key: a comment at the key's column
	// or left of it introduces what follows.
	end := len(lines)
	if nextLine > 0 {
		end = nextLine - 1
	}
	last := val.Line
	for l := end; l > val.Line; l-- {
		t := lines[l-1].text(data)
		trimmed := strings.TrimSpace(t)
		if trimmed == "" || trimmed == "..." || strings.HasPrefix(trimmed, "#") && indentOf(t) <= key.Column-1 {
			continue
		}
		last = l
		break
	}
	p.start = lines[last-1].next
	p.end = p.start
	if p.start == len(data) && !bytes.HasSuffix(data, []byte("\n")) {
		p.head = p.nl
	}
	return nil
}

// planEmpty plans the insertion under a sources key whose value is empty,
// null or [], written on the key's line: that value goes, a comment after
// it stays.
func (p *importPlan) planEmpty(data []byte, lines []lineSpan, key, val *yaml.Node) error {
	if val.Line != key.Line {
		return fmt.Errorf("line %d: sources has its empty value on a line of its own; write \"sources:\" alone to import", val.Line)
	}
	ln := lines[key.Line-1]
	text := ln.text(data)
	at := columnOffset(text, val.Column)
	rest := text[at:]
	if val.Kind == yaml.SequenceNode {
		i := strings.IndexByte(rest, ']')
		if i < 0 {
			return fmt.Errorf("line %d: sources: [] spans lines; write \"sources:\" alone to import", val.Line)
		}
		rest = rest[i+1:]
	} else {
		rest = rest[len(val.Value):]
	}
	head := strings.TrimRight(text[:at], " ")
	if comment := strings.TrimSpace(rest); comment != "" {
		head += " " + comment
	}
	p.start, p.end = ln.start, ln.next
	p.head = head + p.nl
	p.dashIndent = key.Column - 1 + 2
	return nil
}

// apply returns data with the new sources spliced in.
func (p *importPlan) apply(data []byte, news []importedSource) ([]byte, error) {
	var b bytes.Buffer
	b.Write(data[:p.start])
	b.WriteString(p.head)
	dash := strings.Repeat(" ", p.dashIndent) + "-" + strings.Repeat(" ", p.keyIndent-1)
	cont := strings.Repeat(" ", p.dashIndent+p.keyIndent)
	for _, s := range news {
		text, err := encodeSource(s)
		if err != nil {
			return nil, err
		}
		if p.blankLines {
			b.WriteString(p.nl)
		}
		for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if i == 0 {
				b.WriteString(dash)
			} else {
				b.WriteString(cont)
			}
			b.WriteString(line)
			b.WriteString(p.nl)
		}
	}
	b.Write(data[p.end:])
	return b.Bytes(), nil
}

// encodeSource writes one source as a YAML mapping, categories in flow
// style. The encoder quotes what needs quoting (a title with ": " or "#",
// a category "true").
func encodeSource(s importedSource) (string, error) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { m.Content = append(m.Content, str(k), v) }
	add("name", str(s.name))
	add("url", str(s.url))
	if s.title != "" {
		add("title", str(s.title))
	}
	if len(s.categories) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, c := range s.categories {
			seq.Content = append(seq.Content, str(c))
		}
		add("categories", seq)
	}
	if s.typ != "" {
		add("type", str(s.typ))
	}
	if s.fullText {
		add("full_text", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	if s.items != nil {
		rules := &yaml.Node{Kind: yaml.MappingNode}
		for _, kv := range ItemRuleFields(s.items) {
			if kv[1] != "" {
				rules.Content = append(rules.Content, str(kv[0]), str(kv[1]))
			}
		}
		add("items", rules)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return "", fmt.Errorf("encode source %s: %w", s.name, err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("encode source %s: %w", s.name, err)
	}
	return b.String(), nil
}

// lineSpan is one line of a file: its bytes are data[start:end], without
// the line break, and the next line starts at next.
type lineSpan struct{ start, end, next int }

func (l lineSpan) text(data []byte) string {
	return strings.TrimSuffix(string(data[l.start:l.end]), "\r")
}

// splitLines finds the lines of data, numbered from 1 as yaml.v3 numbers
// them: lines[n-1] is line n.
func splitLines(data []byte) []lineSpan {
	var out []lineSpan
	for start := 0; start < len(data); {
		i := bytes.IndexByte(data[start:], '\n')
		if i < 0 {
			out = append(out, lineSpan{start, len(data), len(data)})
			break
		}
		out = append(out, lineSpan{start, start + i, start + i + 1})
		start += i + 1
	}
	return out
}

// columnOffset returns the byte offset in line of yaml.v3's 1-based column
// col, which counts characters.
func columnOffset(line string, col int) int {
	n := 1
	for i := range line {
		if n == col {
			return i
		}
		n++
	}
	return len(line)
}

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// replaceFile writes data over path atomically, keeping the permissions of
// the file it replaces (before). It refuses when the file changed since
// before was taken, so that an edit made meanwhile is not lost.
func replaceFile(path string, data []byte, before fs.FileInfo) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".import-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already failed; the first error is the one to report
			if rmErr := os.Remove(tmp.Name()); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				err = errors.Join(err, rmErr)
			}
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(before.Mode().Perm()); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	now, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !now.ModTime().Equal(before.ModTime()) || now.Size() != before.Size() {
		return errors.New("the file changed while importing; nothing was written, run the import again")
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the directory is synced.
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("written, but not synced: %w", err)
	}
	if err := dir.Sync(); err != nil {
		_ = dir.Close() // the sync error is the one that matters
		return fmt.Errorf("written, but not synced: %w", err)
	}
	return dir.Close()
}
