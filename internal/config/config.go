// Package config loads and validates feeds.yaml, the one file a feedmill
// user edits: where to listen, where to store, which sources to poll and
// when, and which combined feeds to publish.
//
// Loading goes defaults -> strict decode -> validate -> resolve. Every
// problem in the file is reported at once, each with its line, as an Errors
// value that prints like a compiler's output:
//
//	feeds.yaml:12: sources[3].url: not an absolute http(s) URL: "ftp://example.com/rss"
//
// A Config that Load or Parse returns is complete: defaults are filled in,
// derived values (base URL, absolute SQLite path, feed titles) are resolved,
// and every cross-reference has been checked, so its users need not check
// again.
package config

import (
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// Defaults for everything feeds.yaml may leave out.
const (
	DefaultListen = "127.0.0.1:8080"
	DefaultDriver = "sqlite"
	DefaultDSN    = "feedmill.db"
	// DefaultPoll is how often a daemon looks for items another process
	// stored: on SQLite, which has no notifications, the only way it
	// learns of a `feedmill fetch` beside it, so short enough that the
	// new items are published within seconds (a look is one read of one
	// row); on PostgreSQL the fallback for a lost notification. (The
	// lease, fetch limits and hub limits that other packages also need
	// are feed's: feed.DefaultLease and the rest.)
	DefaultPoll         = 2 * time.Second
	DefaultSchedule     = "*/15 * * * *"
	DefaultFeedLimit    = 50
	DefaultDedupeWindow = 48 * time.Hour

	// MaxMinGap bounds fetch.min_gap: with a longer gap, the article
	// pages of one refresh would take hours.
	MaxMinGap = 10 * time.Minute
	// MinBackoffMax and MaxBackoffMax bound fetch.backoff_max. Below a
	// minute backing off means nothing; beyond 30 days a source that
	// recovers would look given up for good.
	MinBackoffMax = time.Minute
	MaxBackoffMax = 30 * 24 * time.Hour

	// DefaultBackfill is how many items from before its first successful
	// fetch a source may bring into a published feed.
	DefaultBackfill = 10
	// BackfillAll is the Feed.Backfill of `backfill: all`: no cap.
	BackfillAll = -1

	// MaxFeedLimit bounds how many items one published feed carries.
	MaxFeedLimit = 10000
	// MaxRetention bounds how many items a store keeps per source.
	MaxRetention = 1_000_000
	// MaxFullTextLimit bounds how many article pages one refresh of a
	// source fetches.
	MaxFullTextLimit = 1000
)

// What server.websub.hub may say besides an external hub's URL.
const (
	// WebSubBuiltin is feedmill's own hub at BaseURL + "/websub/hub".
	WebSubBuiltin = "builtin"
	// WebSubOff advertises no hub.
	WebSubOff = "off"
)

// How a published feed recognizes one story carried by several sources.
const (
	// DedupeLink merges items whose canonical links are equal.
	DedupeLink = "link"
	// DedupeTitle also merges items whose titles are nearly identical and
	// whose dates lie within the feed's DedupeWindow of each other.
	DedupeTitle = "title"
	// DedupeNone merges nothing: every item is published on its own.
	// "off" is read as its synonym.
	DedupeNone = "none"
)

// Config is a loaded, validated and resolved feeds.yaml.
type Config struct {
	// Path is the file name exactly as passed to Load or Parse.
	Path     string
	Server   Server
	Storage  Storage
	Schedule string // default cron spec of every source
	Fetch    Fetch
	Hub      Hub // limits of the built-in WebSub hub
	// TrackingParams are query parameter names removed from item links on
	// top of the normalizer's built-in list, as written; a name ending in
	// '*' matches every parameter it is a prefix of. Empty when not set.
	TrackingParams []string
	Sources        []Source // in file order, at least one
	Feeds          []Feed   // published feeds in file order, at least one
}

// Server is where and under which public URL feedmill serves.
type Server struct {
	// Listen is the TCP address to listen on, host:port.
	Listen string
	// BaseURL is the public URL the published feeds are reachable under,
	// without a trailing slash; links in the feeds are built from it.
	BaseURL string
	// WebSub is the hub the published feeds advertise: WebSubBuiltin,
	// WebSubOff, or the absolute http(s) URL of an external hub that
	// feedmill pings when a feed changes.
	WebSub string
}

// Storage selects the store.
type Storage struct {
	Driver string // "sqlite" or "postgres"
	// DSN is the data source name. For sqlite a relative path has been made
	// absolute against the config file's directory, so the database does
	// not move with the working directory.
	DSN string
	// Lease and Poll coordinate several instances on one PostgreSQL
	// store (see feed.DefaultLease, DefaultPoll); Poll also makes a SQLite
	// daemon notice items that another process (feedmill fetch) stored.
	Lease time.Duration
	Poll  time.Duration
}

// Fetch holds the limits of the HTTP fetcher.
type Fetch struct {
	Timeout     time.Duration // whole request, > 0
	MaxBody     int64         // bytes, > 0
	Concurrency int           // fetches in flight overall, >= 1
	PerHost     int           // requests in flight to one host, >= 1
	UserAgent   string        // empty means the fetcher's own default

	// FullTextLimit is how many article pages one refresh of a full-text
	// source fetches at most, 0..MaxFullTextLimit; 0 fetches none.
	FullTextLimit int
	// FullTextBudget is how long one refresh of a full-text source may
	// spend fetching article pages, > 0.
	FullTextBudget time.Duration

	// MinGap is the least time between the starts of two requests to one
	// host, 0..MaxMinGap; 0 means no gap, as in fetch.Options.
	MinGap time.Duration
	// AllowPrivate lets requests that a feed's content triggers (article
	// pages, their redirects) reach loopback, private, link-local and
	// metadata addresses. Configured source URLs may point anywhere
	// regardless.
	AllowPrivate bool
	// BackoffMax caps the exponential backoff of a failing source,
	// MinBackoffMax..MaxBackoffMax.
	BackoffMax time.Duration
	// SecretParams are query parameter names whose values are secrets,
	// on top of feed's built-in secret names, as written: each has a letter
	// or digit and only letters, digits, '.', '_', '-', '[' and ']'.
	// Empty when not set. Use Config.Redactor.
	SecretParams []string
}

// Hub bounds what anonymous clients can make the built-in WebSub hub do
// (see websub.HubLimits, which these fill). Each is 1..MaxHubLimit; one
// the file leaves out is feed's default (feed.DefaultHubClientPending and
// the rest).
type Hub struct {
	ClientPending       int // hub.per_client_pending
	ClientSubscriptions int // hub.per_client_subscriptions
	HostPending         int // hub.per_host_pending
	HostSubscriptions   int // hub.per_host_subscriptions
	MaxPending          int // hub.max_pending
	MaxSubscriptions    int // hub.max_subscriptions
}

// MaxHubLimit bounds each limit of the hub.
const MaxHubLimit = 1_000_000

// Source is one configured source.
type Source struct {
	Name       string // unique, [A-Za-z0-9._-]+
	URL        string // absolute http(s) URL with a host
	Title      string
	Categories []string
	Schedule   string // empty means Config.Schedule
	Retention  int    // >= 1

	FullText bool
	// Content holds the source's CSS selectors, each of which compiles
	// (cascadia, as goquery uses it); empty when not set.
	Content feed.ContentRules
	// Rewrites are in file order; each Field is one of the feed.Field
	// constants (feed.FieldContent when the file leaves it out), each
	// Pattern compiles with regexp, and each Replace refers only to groups
	// its Pattern has.
	Rewrites []feed.Rewrite
	Priority int // any; higher wins when sources carry the same story
	// WebSub asks feedmill to subscribe to the hub the source's feed
	// advertises, so that updates are pushed rather than polled. It has no
	// counterpart in feed.Source: only the wiring acts on it.
	WebSub bool
	// IgnoreCache is `respect_cache: false`: refreshes follow the
	// schedule alone, ignoring the server's and the feed's hints about how
	// often to fetch (see feed.Source.IgnoreCache). False by default.
	IgnoreCache bool
	// Type is "", "feed", "html" or "json" (see feed.Source.Type); Items
	// the rules that find items on an html page (CSS selectors, each
	// compiling) or in a json document (gjson paths), nil when not set.
	Type  string
	Items *feed.ItemRules

	Line int // line of the source in the file, for later messages
}

// Feed is one published combined feed.
type Feed struct {
	Name        string // unique, [a-z0-9][a-z0-9._-]*: a URL path segment
	Title       string
	Description string
	// Sources are source names or path.Match globs ("*" for all, "news-*");
	// each one names or matches at least one source. Categories select
	// every source carrying one of them. Use Config.FeedSources for the
	// union.
	Sources    []string
	Categories []string
	// Include and Exclude are Go regular expressions (RE2 syntax), each of
	// which compiles and is not empty; Patterns returns them compiled. An
	// item is published when it matches one of Include (or Include is
	// empty) and none of Exclude.
	Include []string
	Exclude []string
	// MaxAge leaves out items dated longer ago than this; 0 means no limit.
	// Never negative.
	MaxAge time.Duration
	// PerSourceLimit is how many items of one source the feed carries at
	// most, 0..MaxRetention; 0 means no limit.
	PerSourceLimit int
	// Backfill is how many of a source's items dated before its first
	// successful fetch the feed carries, 0..MaxRetention, or BackfillAll.
	Backfill int
	Limit    int // 1..MaxFeedLimit items, newest first
	// Dedupe is DedupeLink, DedupeTitle or DedupeNone.
	Dedupe string
	// DedupeWindow is how far apart in time two items may be and still be
	// merged by title, > 0. It is set, and ignored, with DedupeLink.
	DedupeWindow time.Duration
	Line         int // line of the feed in the file; 0 for the default feed
}

// Load reads the file at path and parses it; see Parse. A file that cannot
// be read gives a wrapped os error, not Errors.
func Load(path string) (*Config, error) {
	return load(path, false)
}

// Parse decodes data, the contents of the file filename, validates it and
// resolves its derived values. On any problem it returns a nil Config and an
// Errors holding every problem found. filename is used verbatim in messages
// and in Config.Path, and its directory anchors a relative SQLite path.
func Parse(data []byte, filename string) (*Config, error) {
	return parse(data, filename, false)
}

// LoadDraft reads the file at path and parses it; see ParseDraft.
func LoadDraft(path string) (*Config, error) {
	return load(path, true)
}

// load is Load, and with draft LoadDraft.
func load(path string, draft bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(data, path, draft)
}

// ParseDraft is Parse for a config that may have no sources yet (an
// empty file, settings only, or an empty sources list), such as the one
// `feedmill add` gives its first source: every other rule is checked as
// Parse checks it. A config with sources parses exactly as with Parse.
func ParseDraft(data []byte, filename string) (*Config, error) {
	return parse(data, filename, true)
}

// parse is Parse, and with draft ParseDraft.
func parse(data []byte, filename string, draft bool) (*Config, error) {
	d := newDecoder(filename)
	d.draft = draft
	c := defaults()
	c.Path = filename
	root, ok := d.document(data)
	if root != nil {
		d.decode(root, c)
	}
	// After a syntax error or a spent budget the config is incomplete, and
	// validating it would only add noise ("no sources") to the real problem.
	if ok && d.budget > 0 {
		d.validate(c)
	}
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	if err := c.resolve(filepath.Dir(filename)); err != nil {
		d.errorf(d.line("storage.dsn"), "storage.dsn", "%v", err)
		return nil, d.errs
	}
	return c, nil
}

func defaults() *Config {
	return &Config{
		Server:   Server{Listen: DefaultListen, WebSub: WebSubBuiltin},
		Storage:  Storage{Driver: DefaultDriver, DSN: DefaultDSN, Lease: feed.DefaultLease, Poll: DefaultPoll},
		Schedule: DefaultSchedule,
		Fetch: Fetch{
			Timeout:        feed.DefaultFetchTimeout,
			MaxBody:        feed.DefaultMaxBody,
			Concurrency:    feed.DefaultConcurrency,
			PerHost:        feed.DefaultPerHost,
			FullTextLimit:  feed.DefaultFullTextLimit,
			FullTextBudget: feed.DefaultFullTextBudget,
			MinGap:         feed.DefaultMinGap,
			BackoffMax:     feed.DefaultBackoffMax,
		},
		Hub: Hub{
			ClientPending: feed.DefaultHubClientPending, ClientSubscriptions: feed.DefaultHubClientActive,
			HostPending: feed.DefaultHubHostPending, HostSubscriptions: feed.DefaultHubHostActive,
			MaxPending: feed.DefaultHubPending, MaxSubscriptions: feed.DefaultHubActive,
		},
	}
}

// resolve fills in the values derived from others. It runs on a valid
// config only, so it need not re-check what validate did.
func (c *Config) resolve(dir string) error {
	if c.Server.BaseURL == "" {
		c.Server.BaseURL = baseURLFor(c.Server.Listen)
	}
	c.Server.BaseURL = strings.TrimRight(c.Server.BaseURL, "/")

	if c.Storage.Driver == "sqlite" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("resolve directory of the config file: %w", err)
		}
		c.Storage.DSN = sqliteDSN(c.Storage.DSN, abs)
	}

	if len(c.Feeds) == 0 {
		c.Feeds = []Feed{{
			Name:         "all",
			Title:        "feedmill: all sources",
			Sources:      []string{"*"},
			Backfill:     DefaultBackfill,
			Limit:        DefaultFeedLimit,
			Dedupe:       DedupeLink,
			DedupeWindow: DefaultDedupeWindow,
		}}
	}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		if f.Title == "" {
			f.Title = f.Name
		}
		if f.Description == "" {
			n := len(c.FeedSources(*f))
			f.Description = fmt.Sprintf("Items from %d source%s", n, plural(n))
		}
	}
	return nil
}

// baseURLFor derives the public URL from a valid listen address. A wildcard
// host is shown as localhost, which is where a browser on the same machine
// reaches it.
func baseURLFor(listen string) string {
	host, port, _ := net.SplitHostPort(listen)
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	// An IPv6 zone ("fe80::1%eth0") needs its "%" escaped inside a URL.
	return "http://" + net.JoinHostPort(strings.ReplaceAll(host, "%", "%25"), port)
}

// sqliteDSN makes the file path of a SQLite DSN absolute against dir. It
// understands the two forms modernc.org/sqlite accepts: a plain path with
// optional "?query", and a "file:" URI. In-memory databases and absolute
// paths are kept as they are.
func sqliteDSN(dsn, dir string) string {
	path, query, hasQuery := strings.Cut(dsn, "?")
	if strings.Contains(query, "mode=memory") {
		return dsn
	}
	uri := strings.HasPrefix(path, "file:")
	path = strings.TrimPrefix(path, "file:")
	// "file://host/path" and "file:///path" carry an absolute path already.
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "//") || filepath.IsAbs(path) {
		return dsn
	}
	abs := filepath.Join(dir, path)
	if uri {
		// In a URI these characters would end or alter the path.
		abs = "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	}
	if hasQuery {
		abs += "?" + query
	}
	return abs
}

// FeedSources returns the names of the sources the published feed f
// selects, in config order and without repeats: the sources whose name
// equals or matches (path.Match) one of f.Sources, plus those carrying one
// of f.Categories, compared without regard to case (a feed's "tech"
// selects a source imported as "Tech"). A malformed glob, which validation
// refuses, matches nothing.
func (c *Config) FeedSources(f Feed) []string {
	var out []string
	for _, s := range c.Sources {
		if slices.ContainsFunc(f.Sources, func(pattern string) bool { return matchSource(pattern, s.Name) }) ||
			slices.ContainsFunc(s.Categories, func(cat string) bool { return hasCategory(f.Categories, cat) }) {
			out = append(out, s.Name)
		}
	}
	return out
}

// hasCategory reports whether cats holds cat, without regard to case: the
// one rule by which categories match.
func hasCategory(cats []string, cat string) bool {
	return slices.ContainsFunc(cats, func(c string) bool { return strings.EqualFold(c, cat) })
}

// Warnings returns what is valid but probably not meant, one sentence
// each, in config order: a source that no published feed selects (its
// items are fetched and stored, but nobody can read them), and categories
// that differ only by case (they select the same sources, so one of the
// spellings is likely a typo). Only sources' categories are compared: a
// feed's "tech" selecting a source's "Tech" is what matching ignores case
// for.
func (c *Config) Warnings() []string {
	var out []string
	selected := make(map[string]bool, len(c.Sources))
	for _, f := range c.Feeds {
		for _, name := range c.FeedSources(f) {
			selected[name] = true
		}
	}
	for _, s := range c.Sources {
		if !selected[s.Name] {
			out = append(out, fmt.Sprintf("source %s is in no published feed", s.Name))
		}
	}
	spellings := make(map[string][]string)
	var order []string
	note := func(cat string) {
		key := strings.ToLower(cat)
		if _, seen := spellings[key]; !seen {
			order = append(order, key)
		}
		if !slices.Contains(spellings[key], cat) {
			spellings[key] = append(spellings[key], cat)
		}
	}
	for _, s := range c.Sources {
		for _, cat := range s.Categories {
			note(cat)
		}
	}
	for _, key := range order {
		if sp := spellings[key]; len(sp) > 1 {
			quoted := make([]string, len(sp))
			for i, c := range sp {
				quoted[i] = quote(c)
			}
			out = append(out, fmt.Sprintf("categories %s differ only by case; they are one category", strings.Join(quoted, ", ")))
		}
	}
	return out
}

// matchSource reports whether the feeds[].sources entry pattern selects the
// source called name. Source names cannot hold a glob's special characters
// ('*', '?', '[', '\') or the '/' that path.Match treats specially, so a
// plain name matches only itself.
func matchSource(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return ok && err == nil
}

// isGlob reports whether a feeds[].sources entry is a pattern rather than a
// name.
func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// Patterns returns f.Include and f.Exclude compiled, in order. For a Feed
// that Load or Parse returned they all compile, so nothing is lost; in a
// Feed built by hand, a pattern that does not compile is left out. The
// patterns are compiled again on each call, which keeps Feed a plain value:
// call it once per use, not once per item.
func (f Feed) Patterns() (include, exclude []*regexp.Regexp) {
	return compileAll(f.Include), compileAll(f.Exclude)
}

func compileAll(patterns []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range patterns {
		if re, err := regexp.Compile(p); err == nil && p != "" {
			out = append(out, re)
		}
	}
	return out
}

// Redactor returns the redactor of the secrets in URLs that the config
// asks for: the default secret parameter names plus fetch.secret_params.
func (c *Config) Redactor() feed.Redactor {
	return feed.NewRedactor(c.Fetch.SecretParams...)
}

// DomainSources returns the sources as the pipeline's types, with Schedule
// set to the config's default where the source has none. The slices are
// copies: changing them does not change the Config.
func (c *Config) DomainSources() []feed.Source {
	out := make([]feed.Source, len(c.Sources))
	for i, s := range c.Sources {
		sched := s.Schedule
		if sched == "" {
			sched = c.Schedule
		}
		out[i] = feed.Source{
			Name:       s.Name,
			URL:        s.URL,
			Title:      s.Title,
			Categories: slices.Clone(s.Categories),
			Schedule:   sched,
			Retention:  s.Retention,
			FullText:   s.FullText,
			Content: feed.ContentRules{
				Select: s.Content.Select,
				Remove: slices.Clone(s.Content.Remove),
			},
			Rewrites:    slices.Clone(s.Rewrites),
			Priority:    s.Priority,
			IgnoreCache: s.IgnoreCache,
			Type:        s.Type,
		}
		if s.Items != nil {
			rules := *s.Items
			out[i].Items = &rules
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
