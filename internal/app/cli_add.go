package app

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
)

// addOptions are the flags of `feedmill add`.
type addOptions struct {
	name       string   // -name; "" to derive one from the feed's title
	categories []string // -category, in order
}

// maxAddedName is the longest name `add` gives a source. It is the limit
// of config.Import, which writes the entry: a longer name would be cut.
const maxAddedName = 40

// addedName is the form of the names `add` can write. config.Import, which
// does the writing, names a source after the title it is given, reduced to
// lower-case letters, digits and single dashes; a name already in that
// form comes out unchanged, any other would be changed under the user.
var addedName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// addSource is `feedmill add URL`: it fetches URL with the fetch client
// the config describes; when that is a feed, it is the source, and when it
// is a web page, the first feed the page advertises (<link
// rel="alternate">) that reads as one is. The source is appended to the
// config's sources with a name made from the feed's title (or opts.name)
// and opts.categories, editing the file as `feedmill import` does: every
// other line, comments included, stays as it was, and nothing is written
// unless the result is a valid config. A URL that is already a source is
// refused.
//
// Command line mistakes (a URL that is not http(s), a bad -name) are exit
// status 2, an invalid config too; everything else is 1.
func addSource(ctx context.Context, path, rawURL string, opts addOptions, stdout, stderr io.Writer, logger *slog.Logger) error {
	target, err := checkAddURL(rawURL)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	// The config's secret parameter names are known once it is read.
	secrets := feed.Redactor{}
	shown := secrets.URL(target)
	if opts.name != "" && (!addedName.MatchString(opts.name) || len(opts.name) > maxAddedName) {
		return &ExitError{Code: 2, Err: fmt.Errorf("-name %q: feedmill add writes names of lower-case letters and digits, with single dashes between them, at most %d long (rename the source in %s afterwards for another name)", opts.name, maxAddedName, path)}
	}
	var categories []string
	for _, c := range opts.categories {
		c = strings.Join(strings.Fields(c), " ")
		if c == "" || strings.ContainsFunc(c, unicode.IsControl) {
			return &ExitError{Code: 2, Err: fmt.Errorf("-category %q: a category is a non-empty line of text", c)}
		}
		categories = append(categories, c)
	}

	cfg, err := loadForAdd(path, stderr)
	if err != nil {
		return err
	}
	secrets = cfg.Redactor()
	shown = secrets.URL(target)
	byURL := make(map[string]string, len(cfg.Sources))
	used := make(map[string]bool, len(cfg.Sources))
	for _, s := range cfg.Sources {
		byURL[strings.TrimSpace(s.URL)] = s.Name
		// Import keeps names unique without regard to case.
		used[strings.ToLower(s.Name)] = true
	}
	if name, dup := byURL[target]; dup {
		return fmt.Errorf("add %s: %s already has it, as source %s", shown, path, name)
	}
	if opts.name != "" && used[opts.name] {
		return fmt.Errorf("add %s: %s already has a source named %s; choose another -name", shown, path, opts.name)
	}

	client := newFetchClient(fetchOptions(cfg), logger)
	defer client.CloseIdleConnections()
	normalizer := normalize.New(normalize.Options{Logger: logger.With("component", "normalize"), TrackingParams: cfg.TrackingParams})
	found, err := locateFeed(ctx, client, normalizer, target, secrets)
	if err != nil {
		return fmt.Errorf("add %s: %w", shown, err)
	}
	if found.url != target {
		if name, dup := byURL[found.url]; dup {
			return fmt.Errorf("add %s: its feed %s is already source %s of %s", shown, secrets.URL(found.url), name, path)
		}
	}
	switch {
	case found.discovered:
		fmt.Fprintf(stdout, "%s is a web page; it advertises the feed %s\n", shown, secrets.URL(found.url))
	case found.moved:
		fmt.Fprintf(stdout, "%s moved permanently to %s; adding the new address\n", shown, secrets.URL(found.url))
	}

	name := opts.name
	if name == "" {
		name = config.SourceName(found.title, found.url, used)
	}
	added, skipped, err := config.Import(path, addOPML(name, found.url, categories))
	switch {
	case err != nil:
		return fmt.Errorf("add %s: %w", shown, err)
	case len(skipped) > 0:
		// The file gained the URL since it was read above.
		return fmt.Errorf("add %s: %s already has it", shown, path)
	case len(added) != 1 || added[0] != name:
		return fmt.Errorf("add %s: %s was written with sources %q instead of %s: check the file", shown, path, added, name)
	}

	// Import checked its result before writing it; read the file as it is
	// now, as the daemon will.
	after, err := config.Load(path)
	if err != nil {
		printConfigErrors(stderr, err)
		return fmt.Errorf("add %s: %s is not valid after adding source %s", shown, path, name)
	}
	if !hasSource(after, name, found.url) {
		return fmt.Errorf("add %s: source %s is not in %s after writing it", shown, name, path)
	}
	fmt.Fprintf(stdout, "%s: added source %s (%s)\n", path, name, secrets.URL(found.url))
	return nil
}

// loadForAdd loads the config at path as loadConfig does, except that a
// file without sources (an empty file, one with only settings, or with
// `sources:` empty) is accepted: adding the first source is what makes it
// valid. Its other settings are checked, and its fetch settings used, as
// they would be with a source.
func loadForAdd(path string, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		return cfg, nil
	}
	if data, readErr := os.ReadFile(path); readErr == nil {
		if probe, ok := withProbeSource(data); ok {
			if cfg, probeErr := config.Parse(probe, path); probeErr == nil {
				cfg.Sources = nil
				return cfg, nil
			}
		}
	}
	printConfigErrors(stderr, err)
	return nil, &ExitError{Code: 2, Err: fmt.Errorf("invalid config %s", path)}
}

// withProbeSource returns a feeds.yaml document with the settings of data
// and one made-up source, when data has no sources: a document to check
// the rest of the file with. It reports false when data has sources (its
// problems are then its own) or is not a YAML mapping.
func withProbeSource(data []byte) ([]byte, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, false
	}
	var root *yaml.Node
	switch {
	case len(doc.Content) == 0:
		root = &yaml.Node{Kind: yaml.MappingNode}
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	case doc.Content[0].Kind == yaml.MappingNode:
		root = doc.Content[0]
	case doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null":
		root = &yaml.Node{Kind: yaml.MappingNode}
		doc.Content[0] = root
	default:
		return nil, false
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	probe := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{
		Kind:    yaml.MappingNode,
		Content: []*yaml.Node{str("name"), str("probe"), str("url"), str("https://probe.invalid/feed.xml")},
	}}}
	found := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "sources" {
			continue
		}
		v := root.Content[i+1]
		empty := v.Kind == yaml.ScalarNode && v.Tag == "!!null" || v.Kind == yaml.SequenceNode && len(v.Content) == 0
		if !empty {
			return nil, false
		}
		root.Content[i+1] = probe
		found = true
	}
	if !found {
		root.Content = append(root.Content, str("sources"), probe)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, false
	}
	return out, true
}

// checkAddURL trims rawURL and makes sure it is an absolute http(s) URL
// with a host, as a source URL must be.
func checkAddURL(rawURL string) (string, error) {
	s := strings.TrimSpace(rawURL)
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", rawURL)
	}
	return s, nil
}

// hasSource reports whether cfg has a source named name with URL u.
func hasSource(cfg *config.Config, name, u string) bool {
	for _, s := range cfg.Sources {
		if s.Name == name {
			return strings.TrimSpace(s.URL) == u
		}
	}
	return false
}

// located is the feed `add` found.
type located struct {
	url        string // where to fetch the feed: the source's URL
	title      string // the feed's own title; may be empty
	discovered bool   // url was advertised by the page the user gave
	moved      bool   // url is where the user's URL moved permanently
}

// locateFeed fetches rawURL, the operator's own URL (so it may point at
// any address, like a configured source), and reads it as a feed. A web
// page's advertised feeds are tried as the refresher tries them
// (fetch.FirstFeed, trusting only rawURL's host): the first that reads as
// a feed is the one.
func locateFeed(ctx context.Context, client *fetch.Client, n *normalize.Normalizer, rawURL string, secrets feed.Redactor) (located, error) {
	now := time.Now().UTC()
	resp, err := client.Fetch(ctx, rawURL, feed.Validators{})
	if err != nil {
		return located{}, err
	}
	src := feed.Source{Name: secrets.URL(rawURL), URL: rawURL}
	parsed, err := n.Normalize(src, resp.Body, resp.URL, now)
	if err == nil {
		found := located{url: rawURL, title: parsed.Title}
		if resp.Moved != "" && resp.Moved != rawURL {
			found.url, found.moved = resp.Moved, true
		}
		return found, nil
	}
	if !errors.Is(err, normalize.ErrNotAFeed) {
		return located{}, fmt.Errorf("not a feed feedmill can read: %w", err)
	}

	link, _, errs := fetch.FirstFeed(ctx, client, resp, rawURL, secrets, func(link string, page *fetch.Response) error {
		src := feed.Source{Name: secrets.URL(link), URL: link}
		parsed, err = n.Normalize(src, page.Body, page.URL, now)
		return err
	})
	if link != "" {
		return located{url: link, title: parsed.Title, discovered: true}, nil
	}
	switch len(errs) {
	case 0:
		return located{}, errors.New("not a feed, and not a web page that advertises one (no <link rel=\"alternate\"> to RSS, Atom or JSON Feed)")
	case 1:
		return located{}, fmt.Errorf("a web page whose feed cannot be read: %w", errs[0])
	}
	return located{}, fmt.Errorf("a web page, and none of the %d feeds tried can be read: %w", len(errs), errors.Join(errs...))
}

// addOPML is a one-feed OPML document that config.Import turns into the
// source `add` wants: the feed's title is the source's name (so Import
// keeps it as the name and writes no title: the feed's own is used), and
// the categories are nested folders around it (folder names are taken
// whole, where a category attribute would be split at commas).
func addOPML(name, feedURL string, categories []string) []byte {
	var b strings.Builder
	attr := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s)) // a strings.Builder does not fail
		return e.String()
	}
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\"><head><title>feedmill add</title></head><body>\n")
	for _, c := range categories {
		fmt.Fprintf(&b, "<outline text=\"%s\">\n", attr(c))
	}
	fmt.Fprintf(&b, "<outline type=\"rss\" text=\"%s\" title=\"%s\" xmlUrl=\"%s\"/>\n", attr(name), attr(name), attr(feedURL))
	for range categories {
		b.WriteString("</outline>\n")
	}
	b.WriteString("</body></opml>\n")
	return []byte(b.String())
}
