package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"

	"github.com/feedmill/feedmill/internal/feed"
)

// minInterval is the shortest polling interval a schedule may ask for (the
// messages call it "once a minute"). A
// five-field cron spec cannot go below it anyway; "@every 5s" could, and
// would hammer the servers feedmill promises to be polite to.
const minInterval = time.Minute

// validate checks the meaning of a decoded config, recording every problem.
// Paths that failed to decode are skipped: their problem is already known.
func (d *decoder) validate(c *Config) {
	d.validateServer(c.Server)
	d.validateStorage(c.Storage, c.Fetch)
	d.check("schedule", checkSchedule(c.Schedule))
	d.validateFetch(c.Fetch)
	d.validateHub(c.Hub)
	d.validateTrackingParams(c.TrackingParams)
	d.validateSources(c.Sources, c.Redactor())
	d.validateFeeds(c.Feeds, c.Sources)
}

func (d *decoder) validateTrackingParams(names []string) {
	for i, name := range names {
		switch p := fmt.Sprintf("tracking_params[%d]", i); {
		case name == "":
			d.check(p, "empty parameter name")
		case strings.TrimLeft(name, "*") == "":
			d.check(p, fmt.Sprintf("%s would remove every query parameter, which often names the article itself; put a prefix before the '*' (utm_*)", quote(name)))
		case !validTrackingParam(name):
			d.check(p, fmt.Sprintf("invalid parameter name %s: use letters, digits, '.', '_' and '-', with an optional '*' at the end to match a prefix", quote(name)))
		}
	}
}

func (d *decoder) validateServer(s Server) {
	d.check("server.listen", checkListen(s.Listen))
	// An empty base_url means "derive it from listen".
	if s.BaseURL != "" {
		d.check("server.base_url", checkBaseURL(s.BaseURL))
	}
	switch s.WebSub {
	case WebSubBuiltin, WebSubOff:
	default:
		if checkFeedURL(s.WebSub, feed.Redactor{}) != "" {
			d.check("server.websub.hub", fmt.Sprintf("want %s, %s or the absolute http(s) URL of an external hub, got %s",
				WebSubBuiltin, WebSubOff, quote(s.WebSub)))
		}
	}
}

func (d *decoder) validateStorage(s Storage, f Fetch) {
	if s.Poll < 100*time.Millisecond {
		d.check("storage.poll", fmt.Sprintf("must be at least 100ms, got %s", s.Poll))
	}
	// A lease shorter than the longest refresh (the feed's timeout, then
	// its article pages' budget) would hand a source to a second instance
	// while the first still works on it. Only instances on PostgreSQL
	// share sources.
	if longest := f.Timeout + f.FullTextBudget; s.Driver == "postgres" && s.Lease <= longest {
		d.check("storage.lease", fmt.Sprintf("must be longer than fetch.timeout + fetch.full_text_budget (%s), got %s", longest, s.Lease))
	}
	switch s.Driver {
	case "sqlite", "postgres":
	default:
		d.check("storage.driver", fmt.Sprintf("unknown driver %s (want sqlite or postgres)", quote(s.Driver)))
		return
	}
	_, dsnSet := d.lines["storage.dsn"]
	switch {
	case s.Driver == "postgres" && (!dsnSet || s.DSN == ""):
		// The sqlite default file name means nothing to postgres.
		d.check("storage.dsn", "required with the postgres driver (a postgres:// URL or key=value string)")
	case s.DSN == "":
		d.check("storage.dsn", "empty (leave the key out to use "+DefaultDSN+")")
	}
}

func (d *decoder) validateFetch(f Fetch) {
	if f.Timeout <= 0 {
		d.check("fetch.timeout", fmt.Sprintf("must be positive, got %s", f.Timeout))
	}
	if f.MaxBody <= 0 {
		d.check("fetch.max_body", fmt.Sprintf("must be positive, got %d", f.MaxBody))
	}
	d.check("fetch.concurrency", checkRange(f.Concurrency, 1, 1000))
	d.check("fetch.per_host", checkRange(f.PerHost, 1, 1000))
	if strings.ContainsFunc(f.UserAgent, unicode.IsControl) {
		// A newline here would split the request header.
		d.check("fetch.user_agent", fmt.Sprintf("contains control characters: %s", quote(f.UserAgent)))
	}
	d.check("fetch.full_text_limit", checkRange(f.FullTextLimit, 0, MaxFullTextLimit))
	if f.FullTextBudget <= 0 {
		d.check("fetch.full_text_budget", fmt.Sprintf("must be positive, got %s", f.FullTextBudget))
	}
	if f.MinGap < 0 || f.MinGap > MaxMinGap {
		d.check("fetch.min_gap", fmt.Sprintf("must be from 0 (no gap) to 10m, got %s", f.MinGap))
	}
	if f.BackoffMax < MinBackoffMax || f.BackoffMax > MaxBackoffMax {
		d.check("fetch.backoff_max", fmt.Sprintf("must be from 1m to 30d, got %s", formatAge(f.BackoffMax)))
	}
	for i, name := range f.SecretParams {
		switch p := fmt.Sprintf("fetch.secret_params[%d]", i); {
		case name == "":
			d.check(p, "empty parameter name")
		case strings.ContainsAny(name, "=&"):
			// Not quoted: what follows '=' may be the secret itself.
			d.check(p, "give the parameter's name alone, without '=' or a value")
		case !validSecretParam(name):
			d.check(p, fmt.Sprintf("invalid parameter name %s: use letters, digits, '.', '_', '-', '[' and ']', and at least one letter or digit", quote(name)))
		}
	}
}

// validateHub checks the hub's limits that the file sets; those it leaves
// out keep their defaults.
func (d *decoder) validateHub(h Hub) {
	for _, l := range []struct {
		key string
		n   int
	}{
		{"hub.per_client_pending", h.ClientPending},
		{"hub.per_client_subscriptions", h.ClientSubscriptions},
		{"hub.per_host_pending", h.HostPending},
		{"hub.per_host_subscriptions", h.HostSubscriptions},
		{"hub.max_pending", h.MaxPending},
		{"hub.max_subscriptions", h.MaxSubscriptions},
	} {
		if _, set := d.lines[l.key]; set {
			d.check(l.key, checkRange(l.n, 1, MaxHubLimit))
		}
	}
}

func (d *decoder) validateSources(sources []Source, secrets feed.Redactor) {
	if len(sources) == 0 {
		if !d.draft {
			d.check("sources", "no sources (add at least one, with a name and a url)")
		}
		return
	}
	first := make(map[string]int) // name -> line of its first use
	for i, s := range sources {
		p := fmt.Sprintf("sources[%d]", i)
		if !d.ok(p) {
			continue
		}
		d.checkName(p+".name", s.Name, first, validSourceName, sourceNameRule)
		if s.URL == "" {
			d.check(p+".url", "required")
		} else {
			d.check(p+".url", checkFeedURL(s.URL, secrets))
		}
		for j, cat := range s.Categories {
			if strings.TrimSpace(cat) == "" {
				d.check(fmt.Sprintf("%s.categories[%d]", p, j), "empty category")
			}
		}
		if _, set := d.lines[p+".schedule"]; set {
			d.check(p+".schedule", checkSchedule(s.Schedule))
		}
		d.check(p+".retention", checkRange(s.Retention, 1, MaxRetention))
		d.validateSourceRules(p, s)
	}
}

// checkName checks the name at path: present, valid, and not used before
// (first maps each name seen to the line of its first use).
func (d *decoder) checkName(path, name string, first map[string]int, valid func(string) bool, rule string) {
	if !d.ok(path) {
		return
	}
	switch line, dup := first[name]; {
	case name == "":
		d.check(path, "required")
	case !valid(name):
		d.check(path, fmt.Sprintf("invalid name %s: %s", quote(name), rule))
	case dup:
		d.check(path, fmt.Sprintf("duplicate name %s (first used at line %d)", quote(name), line))
	default:
		first[name] = d.line(path)
	}
}

func (d *decoder) validateFeeds(feeds []Feed, sources []Source) {
	known := make(map[string]bool)
	categories := make(map[string]bool)
	for _, s := range sources {
		known[s.Name] = true
		for _, c := range s.Categories {
			categories[strings.ToLower(c)] = true
		}
	}
	first := make(map[string]int)
	for i, f := range feeds {
		p := fmt.Sprintf("feeds[%d]", i)
		if !d.ok(p) {
			continue
		}
		d.checkName(p+".name", f.Name, first, validFeedName,
			"it is a URL path segment, so use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit")
		for j, name := range f.Sources {
			switch ep := fmt.Sprintf("%s.sources[%d]", p, j); {
			case name == "*":
			case name == "":
				d.check(ep, "empty source name")
			case isGlob(name):
				if _, err := path.Match(name, ""); err != nil {
					d.check(ep, fmt.Sprintf("invalid pattern %s: %v", quote(name), err))
				} else if !slices.ContainsFunc(sources, func(s Source) bool { return matchSource(name, s.Name) }) {
					d.check(ep, fmt.Sprintf("no source matches %s", quote(name)))
				}
			case !known[name]:
				d.check(ep, fmt.Sprintf("unknown source %s", quote(name)))
			}
		}
		for j, cat := range f.Categories {
			switch ep := fmt.Sprintf("%s.categories[%d]", p, j); {
			case cat == "":
				d.check(ep, "empty category")
			case !categories[strings.ToLower(cat)]:
				d.check(ep, fmt.Sprintf("unknown category %s (no source has it)", quote(cat)))
			}
		}
		if len(f.Sources) == 0 && len(f.Categories) == 0 && d.ok(p+".sources") && d.ok(p+".categories") {
			d.check(p, `selects no source (set sources: ["*"], source names, or categories)`)
		}
		d.checkPatterns(p+".include", f.Include)
		d.checkPatterns(p+".exclude", f.Exclude)
		if f.MaxAge < 0 {
			d.check(p+".max_age", fmt.Sprintf("must not be negative, got %s (leave it out for no limit)", f.MaxAge))
		}
		d.check(p+".per_source_limit", checkRange(f.PerSourceLimit, 0, MaxRetention))
		if f.Backfill > MaxRetention {
			d.check(p+".backfill", fmt.Sprintf("must be from 0 to %d, or all, got %d", MaxRetention, f.Backfill))
		}
		d.check(p+".limit", checkRange(f.Limit, 1, MaxFeedLimit))
		switch f.Dedupe {
		case DedupeLink, DedupeTitle, DedupeNone:
		default:
			d.check(p+".dedupe", fmt.Sprintf("unknown mode %s (want %s, %s, or %s/off)", quote(f.Dedupe), DedupeLink, DedupeTitle, DedupeNone))
		}
		if f.DedupeWindow <= 0 {
			d.check(p+".dedupe_window", fmt.Sprintf("must be positive, got %s", f.DedupeWindow))
		}
	}
}

// checkPatterns checks the include or exclude list at path: every pattern
// compiles, and none is empty, which would match every item.
func (d *decoder) checkPatterns(path string, patterns []string) {
	for j, pattern := range patterns {
		ep := fmt.Sprintf("%s[%d]", path, j)
		if pattern == "" {
			d.check(ep, "empty pattern (it would match every item)")
			continue
		}
		_, problem := compilePattern(pattern)
		d.check(ep, problem)
	}
}

// check records problem, if any, against path, unless path failed to
// decode.
func (d *decoder) check(path, problem string) {
	if problem == "" || !d.ok(path) {
		return
	}
	d.errorf(d.line(path), path, "%s", problem)
}

// ok reports whether neither path nor any path above it failed to decode.
func (d *decoder) ok(path string) bool {
	for {
		if d.bad[path] {
			return false
		}
		if path == "" {
			return true
		}
		path = parent(path)
	}
}

// line returns the line that set path, else that of the nearest path above
// it the file mentions, else 1: a default is best blamed on the file's top.
func (d *decoder) line(path string) int {
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if path == "" {
			return 1
		}
		path = parent(path)
	}
}

// parent returns the path one level up: "feeds[0].sources[1]" ->
// "feeds[0].sources" -> "feeds[0]" -> "feeds" -> "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// formatAge prints a duration the way asAge reads it, with whole days
// first ("30d1s"), so that a message echoes what the user wrote rather
// than "720h0m1s".
func formatAge(d time.Duration) string {
	const day = 24 * time.Hour
	if d < day {
		return d.String()
	}
	days, rest := d/day, d%day
	if rest == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%s", days, rest)
}

func checkRange(n, lo, hi int) string {
	if n < lo || n > hi {
		return fmt.Sprintf("must be from %d to %d, got %d", lo, hi, n)
	}
	return ""
}

// checkSchedule reports what is wrong with a cron spec, or "". It accepts
// what cron.ParseStandard accepts, minus schedules that fire more often than
// minInterval or never at all.
func checkSchedule(spec string) string {
	bad := func(why string) string { return fmt.Sprintf("invalid schedule %s: %s", quote(spec), why) }
	if strings.TrimSpace(spec) == "" {
		return bad("empty")
	}
	if word, unknown := unknownDescriptor(spec); unknown {
		if arg, ok := strings.CutPrefix(word, "@every"); ok {
			// The space was left out: "@every5m".
			return bad(fmt.Sprintf("unknown shortcut %s: did you mean %s?", quote(word), quote("@every "+arg)))
		}
		if hint := Suggest(word, cronDescriptors); hint != "" {
			return bad(fmt.Sprintf("unknown shortcut %s: did you mean %s?", quote(word), hint))
		}
	}
	sched, err := parseSchedule(spec)
	if err != nil {
		return bad(err.Error())
	}
	// Next from a fixed instant keeps the check deterministic; any instant
	// works, as cron gives up after five years without a match.
	ref := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
	next := sched.Next(ref)
	switch {
	case next.IsZero():
		return bad("it never fires")
	case sched.Next(next).Sub(next) < minInterval:
		return bad("it fires more often than once a minute")
	}
	return ""
}

// cronDescriptors are the shortcuts cron.ParseStandard accepts in place of
// the five fields.
var cronDescriptors = []string{"@every", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}

// unknownDescriptor returns the shortcut spec starts with (after a time
// zone, if any) and whether cron would refuse it as unknown.
func unknownDescriptor(spec string) (word string, unknown bool) {
	fields := strings.Fields(spec)
	if len(fields) > 0 && (strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ=")) {
		fields = fields[1:]
	}
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "@") {
		return "", false
	}
	return fields[0], !slices.Contains(cronDescriptors, fields[0])
}

// parseSchedule is cron.ParseStandard without its panics: v3.0.1 slices out
// of range on a time zone prefix with nothing after it ("TZ=UTC").
func parseSchedule(spec string) (sched cron.Schedule, err error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.Contains(spec, " ") {
			return nil, errors.New("a time zone must be followed by a space and a schedule")
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cannot parse: %v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

func checkListen(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("not a host:port address: %s (for example 127.0.0.1:8080 or :8080)", quote(addr))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("invalid port in %s: want a number from 1 to 65535", quote(addr))
	}
	if host != "" && !validIP(host) && !validHostname(host) {
		return fmt.Sprintf("invalid host in %s", quote(addr))
	}
	return ""
}

func checkBaseURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("not an absolute http(s) URL: %s", quote(s))
	case u.User != nil:
		return fmt.Sprintf("must not contain a user name or password: %s", quote(s))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Sprintf("must not have a query or fragment: %s", quote(s))
	}
	return ""
}

// checkFeedURL reports, with a reason, a source URL that feedmill cannot
// fetch.
func checkFeedURL(s string, secrets feed.Redactor) string {
	var why string
	u, err := url.Parse(s)
	var uerr *url.Error
	switch {
	case errors.As(err, &uerr):
		why = uerr.Err.Error()
	case err != nil:
		why = err.Error()
	case u.Scheme == "":
		why = "relative"
	case u.Scheme != "http" && u.Scheme != "https":
		why = "scheme " + u.Scheme
	case u.Hostname() == "":
		why = "no host"
	default:
		return ""
	}
	// Messages reach logs and the status page: the URL is shown without
	// its secrets.
	return fmt.Sprintf("not an absolute http(s) URL: %s (%s)", quote(secrets.URL(s)), secrets.Text(why))
}

func validSourceName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func validFeedName(s string) bool {
	if s == "" || !isLowerAlnum(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !isLowerAlnum(r) && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// isLowerAlnum and isAlnum are ASCII-only on purpose: names end up in URLs
// and ids, where look-alike letters would only confuse.
func isLowerAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

func isAlnum(r rune) bool { return isLowerAlnum(r) || r >= 'A' && r <= 'Z' }

func validIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// validHostname accepts DNS names: dot-separated labels of ASCII letters,
// digits and hyphens.
func validHostname(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}
