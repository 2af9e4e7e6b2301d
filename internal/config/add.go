package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/feedmill/feedmill/internal/feed"
)

// NewSource is a source AddSource appends to a feeds.yaml.
type NewSource struct {
	// Name must be a valid source name, not used in the file (compared
	// ignoring case, as Import keeps names apart).
	Name string
	URL  string // an absolute http(s) URL no source of the file has
	// Title is written when set; empty, the feed's own title is used.
	Title string
	// Categories are written in order, white space collapsed, each once.
	Categories []string
	// Type is written when set ("html" for a web page without a feed).
	Type string
	// Items, when set, are written as the source's items: rules, the
	// fields that are not empty (see ItemRuleFields).
	Items *feed.ItemRules
	// FullText writes full_text: true: each item's article page is
	// fetched for its text (and what the listing lacks: date, author).
	FullText bool
}

// ItemRuleFields returns the fields of r as feeds.yaml names them, in the
// order the config reference lists them, empty ones included.
func ItemRuleFields(r *feed.ItemRules) [][2]string {
	return [][2]string{
		{"each", r.Each}, {"title", r.Title}, {"link", r.Link}, {"date", r.Date}, {"date_format", r.DateFormat},
		{"summary", r.Summary}, {"content", r.Content}, {"image", r.Image}, {"author", r.Author},
	}
}

// sourceNameRule says which names a source may have, in the words of
// every message about one: the config's own errors and `feedmill add
// -name`'s.
const sourceNameRule = `use only letters, digits, '.', '_' and '-' (not "." or "..")`

// CheckSourceName returns nil when name is one that sources: accepts
// (validSourceName), and otherwise the error the config gives for it:
// `invalid name "go blog": use only letters, ...`. It is how a command
// that names a source checks the name before writing it.
func CheckSourceName(name string) error {
	if !validSourceName(name) {
		return fmt.Errorf("invalid name %s: %s", quote(name), sourceNameRule)
	}
	return nil
}

// ErrNameTaken and ErrURLTaken report that the file AddSource was to edit
// already has a source with the new one's name (ignoring case) or URL.
var (
	ErrNameTaken = errors.New("a source has that name already")
	ErrURLTaken  = errors.New("a source has that URL already")
)

// AddSource appends s to the sources of the feeds.yaml at path, editing
// the file as Import does: one entry in the list's own layout (a sources
// list is made when there is none, or when it is empty), every other byte
// kept, comments included, nothing written unless the result passes Parse,
// and the file replaced atomically. The file may have no sources before
// (see ParseDraft). Errors wrap ErrNameTaken or ErrURLTaken when the file
// has s's name or URL.
func AddSource(path string, s NewSource) error {
	entry := importedSource{name: s.Name, url: strings.TrimSpace(s.URL), title: collapseSpace(s.Title), typ: s.Type, items: s.Items, fullText: s.FullText}
	for _, c := range s.Categories {
		entry.categories = appendCategory(entry.categories, c)
	}
	return editSources(path, func(names []string, urls map[string]bool) ([]importedSource, error) {
		if urls[entry.url] {
			return nil, fmt.Errorf("add to %s: %w", path, ErrURLTaken)
		}
		for _, n := range names {
			if strings.EqualFold(n, entry.name) {
				return nil, fmt.Errorf("add to %s: %s: %w", path, n, ErrNameTaken)
			}
		}
		return []importedSource{entry}, nil
	})
}
