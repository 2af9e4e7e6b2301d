package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// nodeBudget bounds how many YAML nodes one Parse visits. Anchors and aliases
// let a small file name the same list many times over; the budget keeps such
// a file from costing more than a large honest one would (ten thousand
// sources with a few categories each fit in it).
const nodeBudget = 1 << 18

// decoder turns the YAML node tree into a Config and collects every problem
// on the way. It works on nodes rather than on tagged structs so that each
// message can carry the line of the key or element it is about.
type decoder struct {
	file string
	errs Errors

	// lines maps a field path ("sources[2].url") to the line of the key or
	// list element that set it. A path is present exactly when the file
	// mentions it, which is how validation tells "absent" from "empty".
	lines map[string]int
	// bad holds the paths whose value had the wrong shape. Validation skips
	// them and everything below them, so one mistake gives one message.
	bad map[string]bool

	budget int
	// draft accepts a config without sources (ParseDraft).
	draft bool
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:   file,
		lines:  make(map[string]int),
		bad:    make(map[string]bool),
		budget: nodeBudget,
	}
}

// errorf records a problem at line about the field at path.
func (d *decoder) errorf(line int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.errs = append(d.errs, Error{File: d.file, Line: line, Message: msg})
}

// typeError records that the value at path has the wrong shape and marks the
// path bad.
func (d *decoder) typeError(n *yaml.Node, path, want string) {
	d.bad[path] = true
	d.errorf(n.Line, path, "expected %s, got %s", want, describe(n))
}

// syntaxLine picks the line number out of a yaml.v3 syntax error, which only
// exists as text ("yaml: line 3: could not find expected ':'").
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into its single YAML document. root is nil when the
// input is empty or only comments; ok is false when it is not valid YAML,
// the problem then being recorded.
func (d *decoder) document(data []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		d.syntaxError(err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(err)
		return nil, false
	default:
		// A second document would be silently ignored by most loaders;
		// saying so beats a user wondering why their sources vanished.
		d.errorf(next.Line, "", "more than one YAML document (remove the second \"---\")")
		return nil, false
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
}

// parserProblems are the messages of yaml.v3's parser, as opposed to its
// scanner. v3.0.6 prints the line of a parser error 0-based (the scanner's
// are 1-based), so these get one added; the golden tests pin both kinds.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			if parserProblems[m[2]] {
				line++
			}
			d.errorf(line, "", "invalid YAML: %s", m[2])
			return
		}
	}
	d.errorf(0, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// deref follows aliases to the node they name and charges the visit to the
// budget. It returns nil once the budget is spent.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	if d.budget <= 0 {
		return nil
	}
	d.budget--
	if d.budget == 0 {
		d.errorf(n.Line, "", "document too large or too deeply aliased (more than %d nodes)", nodeBudget)
		return nil
	}
	// An anchored node is never itself an alias, so one step suffices; the
	// loop only guards against a malformed tree.
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// field is one known key of a mapping and what to do with its value.
type field struct {
	key string
	set func(v *yaml.Node, path string)
}

// mapping decodes the mapping n at path through fields: every key must be
// one of them and appear once. A null value leaves everything as it was.
// It reports whether n was a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) bool {
	v := d.deref(n)
	if v == nil {
		return false
	}
	if isNull(v) {
		return true
	}
	if v.Kind != yaml.MappingNode {
		want := "a mapping"
		if path == "" {
			want = "a mapping of settings at the top level"
		}
		d.typeError(n, path, want)
		return false
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := d.deref(v.Content[i]), v.Content[i+1]
		if k == nil {
			return true
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(v.Content[i].Line, path, "keys must be plain names, got %s", describe(k))
			continue
		}
		p := join(path, k.Value)
		if k.Tag == "!!merge" {
			d.errorf(k.Line, path, "merge keys (<<) are not supported; repeat the settings or use an alias for a single value")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, p, "duplicate key (first set at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := lookup(fields, k.Value)
		if !ok {
			if hint := Suggest(k.Value, keys(fields)); hint != "" {
				d.errorf(k.Line, p, "unknown key: did you mean %s?", hint)
			} else {
				d.errorf(k.Line, p, "unknown key (known keys here: %s)", strings.Join(keys(fields), ", "))
			}
			continue
		}
		d.lines[p] = k.Line
		f.set(val, p)
	}
	return true
}

// item decodes the list element n at path like mapping, except that an
// empty element ("-" alone on its line) is an error rather than defaults.
func (d *decoder) item(n *yaml.Node, path string, fields []field) {
	if v := d.deref(n); v != nil && isNull(v) {
		d.typeError(n, path, "a mapping")
		return
	}
	d.mapping(n, path, fields)
}

// list calls each for every element of the sequence n at path, with the
// element's own path ("sources[2]"). A null value is an empty list.
func (d *decoder) list(n *yaml.Node, path string, each func(i int, el *yaml.Node, path string)) {
	v := d.deref(n)
	if v == nil || isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.typeError(n, path, "a list")
		return
	}
	for i, el := range v.Content {
		if d.budget <= 0 {
			return
		}
		p := path + "[" + strconv.Itoa(i) + "]"
		d.lines[p] = el.Line
		each(i, el, p)
	}
}

// scalar returns the scalar behind n, or nil after recording a type error.
// ok is false for null, which callers treat as "not set".
func (d *decoder) scalar(n *yaml.Node, path, want string) (v *yaml.Node, ok bool) {
	v = d.deref(n)
	if v == nil || isNull(v) {
		return nil, false
	}
	if v.Kind != yaml.ScalarNode {
		d.typeError(n, path, want)
		return nil, false
	}
	return v, true
}

// asString stores any non-null scalar as text: `title: 2024` is the title
// "2024", as a reader of the file would expect.
func (d *decoder) asString(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if v, ok := d.scalar(n, path, "a string"); ok {
			*dst = v.Value
		}
	}
}

// asDedupe stores a dedupe mode, reading "off" as DedupeNone so that the
// rest of the program knows one word for it. Validation judges the mode.
func (d *decoder) asDedupe(dst *string) func(*yaml.Node, string) {
	str := d.asString(dst)
	return func(n *yaml.Node, path string) {
		if str(n, path); *dst == "off" {
			*dst = DedupeNone
		}
	}
}

// asStrings stores a list of strings. A bad element is kept as "" (and
// marked bad) so that element indexes still match the file.
func (d *decoder) asStrings(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		out := []string{}
		d.list(n, path, func(_ int, el *yaml.Node, p string) {
			s := ""
			if v, ok := d.scalar(el, p, "a string"); ok {
				s = v.Value
			} else if !d.bad[p] && d.budget > 0 {
				d.typeError(el, p, "a string")
			}
			out = append(out, s)
		})
		if !d.bad[path] {
			*dst = out
		}
	}
}

func (d *decoder) asInt(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		v, ok := d.scalar(n, path, "an integer")
		if !ok {
			return
		}
		var i int64
		// yaml.v3 resolves digits too long for an int64 as a float.
		tooLong := v.ShortTag() == "!!float" && strings.Trim(v.Value, "+-0123456789") == ""
		if v.ShortTag() != "!!int" && !tooLong {
			d.typeError(n, path, "an integer")
			return
		}
		if err := v.Decode(&i); tooLong || err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			d.bad[path] = true
			d.errorf(n.Line, path, "integer out of range: %s", v.Value)
			return
		}
		*dst = int(i)
	}
}

// asBool reads true or false. YAML 1.1's yes, no, on and off are refused
// rather than guessed: YAML 1.2 makes them strings, and a message naming the
// two accepted words is kinder than a meaning that depends on the parser.
func (d *decoder) asBool(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		v, ok := d.scalar(n, path, "true or false")
		if !ok {
			return
		}
		var b bool
		switch {
		case v.ShortTag() == "!!bool" && v.Decode(&b) == nil:
			*dst = b
		case v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && (v.Value == "true" || v.Value == "false"):
			// Quoted, it is the text "true", which looks like the right
			// answer in the message unless the quotes are pointed out.
			d.bad[path] = true
			d.errorf(n.Line, path, "expected true or false, got the string %s (remove the quotes)", quote(v.Value))
		default:
			d.typeError(n, path, "true or false")
		}
	}
}

// asDuration reads a Go duration. A bare number is refused rather than
// guessed to be seconds.
func (d *decoder) asDuration(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		v, ok := d.scalar(n, path, "a duration")
		if !ok {
			return
		}
		dur, err := time.ParseDuration(v.Value)
		if err != nil {
			d.bad[path] = true
			d.errorf(n.Line, path, "not a duration: %s (use a number with a unit: 30s, 2m, 1h30m)", quote(v.Value))
			return
		}
		*dst = dur
	}
}

// asAge reads a duration like asDuration, which may also start with a
// whole number of days ("30d", "2d12h"): ages are thought of in days, and
// "720h" reads badly. The sign is left to validation.
func (d *decoder) asAge(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		v, ok := d.scalar(n, path, "a duration")
		if !ok {
			return
		}
		age, err := parseAge(v.Value)
		if err != nil {
			d.bad[path] = true
			hint := ""
			if errors.Is(err, errNotDuration) {
				hint = " (use a number with a unit: 30d, 12h, 2d12h)"
			}
			d.errorf(n.Line, path, "%v: %s%s", err, quote(v.Value), hint)
			return
		}
		*dst = age
	}
}

// maxDays is the largest day count a time.Duration holds.
const maxDays = math.MaxInt64 / int64(24*time.Hour)

var (
	errNotDuration = errors.New("not a duration")
	errTooLong     = errors.New("duration too large")
)

// parseAge reads an optional sign, an optional whole number of days with
// the suffix "d", and a Go duration for the rest ("30d", "2d12h", "-1d",
// "36h"). A bare number other than 0 has no unit and is refused, as
// time.ParseDuration refuses it.
func parseAge(s string) (time.Duration, error) {
	t, neg := strings.CutPrefix(s, "-")
	if !neg {
		t = strings.TrimPrefix(t, "+")
	}
	var days time.Duration
	n, afterDays, hasDays := strings.Cut(t, "d")
	if hasDays {
		if n == "" || strings.Trim(n, "0123456789") != "" {
			return 0, errNotDuration
		}
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v > maxDays {
			return 0, errTooLong
		}
		days, t = time.Duration(v)*24*time.Hour, afterDays
	}
	var rest time.Duration
	if t != "" || !hasDays {
		// A second sign ("2d-3h") would make the parts disagree.
		if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
			return 0, errNotDuration
		}
		// ParseDuration reports an overflow as an invalid duration too.
		var err error
		if rest, err = time.ParseDuration(t); err != nil {
			return 0, errNotDuration
		}
	}
	if rest > math.MaxInt64-days {
		return 0, errTooLong
	}
	if neg {
		return -(days + rest), nil
	}
	return days + rest, nil
}

// asBackfill reads a number of items, at least 0, or the word "all"
// (BackfillAll).
func (d *decoder) asBackfill(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		v, ok := d.scalar(n, path, "a number of items or all")
		if !ok {
			return
		}
		switch {
		case v.Value == "all":
			*dst = BackfillAll
		case v.ShortTag() == "!!int" || v.ShortTag() == "!!float" && strings.Trim(v.Value, "+-0123456789") == "":
			i := 0
			d.asInt(&i)(n, path)
			switch {
			case d.bad[path]:
			case i < 0:
				// Refused here, not in validation: BackfillAll is
				// negative too, and must not be spelled "-1".
				d.bad[path] = true
				d.errorf(n.Line, path, "must be from 0 to %d, or all, got %d", MaxRetention, i)
			default:
				*dst = i
			}
		default:
			d.typeError(n, path, "a number of items or all")
		}
	}
}

func (d *decoder) asSize(dst *int64) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		v, ok := d.scalar(n, path, "a size")
		if !ok {
			return
		}
		size, err := parseSize(v.Value)
		if err != nil {
			d.bad[path] = true
			d.errorf(n.Line, path, "not a size: %s (%v)", quote(v.Value), err)
			return
		}
		*dst = size
	}
}

// sizeUnits are the suffixes max_body accepts. KB and MB are decimal and KiB
// and MiB binary, as the SI and IEC say; case is not significant.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	// Longest suffixes first, so "kib" is not read as "b".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
	{"b", 1},
}

// parseSize reads a byte count: plain digits, or digits followed by B, KB,
// KiB, MB, MiB, GB or GiB, optionally separated by a space.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	factor := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, factor = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.factor
			break
		}
	}
	if t == "" || strings.TrimLeft(t, "0123456789") != "" {
		return 0, errors.New("want a whole number of bytes, optionally with a unit: B, KB, KiB, MB, MiB, GB, GiB")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n > math.MaxInt64/factor {
		return 0, errors.New("too large")
	}
	return n * factor, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return quote(n.Value)
	}
	return "an unknown YAML node"
}

// quote returns s as a Go string literal, cut to a readable length. Quoting
// also keeps control characters in a hostile file off the user's terminal.
func quote(s string) string {
	const limit = 80
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "..."
	}
	return strconv.Quote(s)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func lookup(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// keys names the known keys of a mapping, in schema order.
func keys(fields []field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.key
	}
	return out
}
