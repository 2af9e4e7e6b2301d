package server

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/publish"
)

//go:embed templates/*.html
var templateFS embed.FS

// parsePages parses the embedded page templates; each Server holds its own.
// The templates are part of the binary, so failing to parse them is a
// programming error caught by every test that builds a Server.
func parsePages() *template.Template {
	funcs := template.FuncMap{
		"join":   strings.Join,
		"iso":    iso,
		"ago":    ago,
		"until":  until,
		"day":    func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
		"unix":   unixAttr,
		"rawday": func(p *float64) string { return strconv.FormatFloat(perDayOr(p), 'f', -1, 64) },
		"perday": formatPerDay,
		"rank":   func(status string) int { return statusRank[status] },
		"dur":    formatDuration,
		"plural": func(n int, one, many string) string { return map[bool]string{true: one, false: many}[n == 1] },
	}
	return template.Must(template.New("pages").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
}

type feedView struct {
	Name        string      `json:"name"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	Page        string      `json:"page"`
	Atom        string      `json:"atom"`
	RSS         string      `json:"rss"`
	JSON        string      `json:"json"`
	OPML        string      `json:"opml"`
	Items       int         `json:"items"`
	Latest      []entryView `json:"latest,omitempty"`
}

type entryView struct {
	Title  string    `json:"title"`
	Link   string    `json:"link,omitempty"`
	Source string    `json:"source"`
	Date   time.Time `json:"date,omitzero"`
}

func newEntryView(it feed.Item) entryView {
	return entryView{Title: publish.DisplayTitle(it), Link: it.Link, Source: it.Source, Date: it.Date().UTC()}
}

// itemView is an item as the feed page shows it, so that a person can read
// the feed there: besides its title, link, source and date, the source's
// page on this server, an excerpt of its text and its picture.
type itemView struct {
	entryView
	SourcePage string
	// Excerpt is the text of its summary, else its content, cut to
	// excerptLen; "" when it would only repeat the title.
	Excerpt string
	// Image is its lead picture as published: an absolute http(s) URL,
	// or "" for none.
	Image string
}

// excerptLen is about how many characters of an item's text the feed page
// shows: a few lines, enough to decide whether to read on.
const excerptLen = 300

func (s *Server) newItemView(it feed.Item) itemView {
	v := itemView{entryView: newEntryView(it), SourcePage: publish.SourcePageURL(s.opts.BaseURL, it.Source), Image: webImage(it.Image)}
	if ex := publish.Excerpt(it, excerptLen); ex != v.Title {
		v.Excerpt = ex
	}
	return v
}

// webImage returns u when it is an absolute http(s) URL with a host, the
// only pictures a page may show; "" otherwise.
func webImage(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// sourceDetail is the per-source page's subject.
type sourceDetail struct {
	sourceRow
	Schedule  string
	FullText  bool
	Retention int
	// History tells whether the store keeps fetch histories; Fetches and
	// Recent are then the newest attempts and items.
	History bool
	Fetches []feed.Fetch
	Recent  []entryView
	// LastDuration, LastNew and LastUpdated describe the last attempt.
	LastDuration time.Duration
	LastNew      int
	LastUpdated  int
}

type pageData struct {
	Title, Version, BaseURL string
	// CSS and JS are the URLs of the embedded stylesheet and script; JS
	// is empty on pages without one.
	CSS, JS    string
	Now        time.Time
	Alternates []feedView // feeds advertised for autodiscovery
	// AutoRefresh makes a browser without JavaScript reload the page
	// every minute (the script refreshes it in place instead).
	AutoRefresh bool

	// The index page.
	Status    statusDoc
	Rows      []sourceRow // the sources as filtered and sorted by View, one page of them (Status.Sources)
	Pager     pager       // where Rows stand among the pages
	View      listView
	Columns   []columnView
	Chips     []chipView
	StatusURL string // status.json, relative to the page, which the script reads
	Self      string // the page's own URL, with its query

	// The feed page. RemoteImages lets its items' pictures load from
	// their own hosts (feedPageCSP).
	Feed         feedView
	Entries      []itemView
	RemoteImages bool

	// The source page.
	Source sourceDetail

	// ConfigProblems are the problems of a changed config file that was
	// rejected: the daemon still runs the previous one.
	ConfigProblems []string
}

// columnView is a sortable column header: its link sorts by it, in the
// other order when it is the current sort.
type columnView struct {
	Key, Label, Href string
	Num              bool
	// First is whether a first click sorts descending; Desc is the order
	// its link asks for now; Sort says how the table is sorted by it
	// ("ascending", "descending", or "" when it is not).
	First, Desc bool
	Sort        string
}

// chipView is one choice of the status filter.
type chipView struct {
	Status, Label, Href string
	Count               int
	Current             bool
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	now := time.Now()
	view := parseListView(r.URL.Query())
	doc, err := s.status(ctx, now, view, true)
	if err != nil {
		s.log.Error("index: read states", "err", err)
		http.Error(w, "the store is unavailable", http.StatusServiceUnavailable)
		return
	}
	data := s.newPageData("feedmill", now)
	data.Alternates, data.AutoRefresh = doc.Feeds, true
	data.JS = s.opts.BaseURL + "/assets/" + pageAssets().js.name
	data.Status, data.View, data.ConfigProblems = doc, view, doc.ConfigProblems
	// The script reads the JSON from wherever the page was loaded (a
	// relative URL): same origin, whatever host name the browser used.
	data.StatusURL = "status.json"
	data.Rows, data.Pager = doc.Sources, *doc.Page
	view.Page = data.Pager.Number
	data.View = view
	data.Self = s.opts.BaseURL + "/" + view.pageQuery(view.Sort, view.Desc, view.Page)
	if data.Pager.Pages > 1 {
		// The script refreshes the page it shows, and leaves sorting and
		// filtering to the server's links (see status.js: paged).
		data.StatusURL = "status.json" + view.pageQuery(view.Sort, view.Desc, max(view.Page, 1))
		if !strings.Contains(data.StatusURL, "page=") {
			data.StatusURL += map[bool]string{false: "?", true: "&"}[strings.Contains(data.StatusURL, "?")] + "page=1"
		}
		if n := data.Pager.Number; n > 1 {
			data.Pager.Prev = s.opts.BaseURL + "/" + view.pageQuery(view.Sort, view.Desc, n-1) + "#sources"
		}
		if n := data.Pager.Number; n < data.Pager.Pages {
			data.Pager.Next = s.opts.BaseURL + "/" + view.pageQuery(view.Sort, view.Desc, n+1) + "#sources"
		}
	}
	for _, k := range sortKeys {
		c := columnView{Key: k.key, Label: k.label, Num: k.num, First: k.desc, Desc: k.desc}
		if view.Sort == k.key {
			c.Desc = !view.Desc
			c.Sort = map[bool]string{false: "ascending", true: "descending"}[view.Desc]
		}
		c.Href = s.opts.BaseURL + "/" + view.query(k.key, c.Desc) + "#sources"
		data.Columns = append(data.Columns, c)
	}
	all := listView{Sort: view.Sort, Desc: view.Desc}
	data.Chips = append(data.Chips, chipView{Label: "all", Count: doc.Counts.All, Current: view.Status == "",
		Href: s.opts.BaseURL + "/" + all.query(view.Sort, view.Desc) + "#sources"})
	for _, sl := range statusLabels {
		n := *doc.Counts.of(sl.status)
		if n == 0 && view.Status != sl.status {
			continue // a filter that shows nothing is clutter on a phone
		}
		v := listView{Status: sl.status}
		data.Chips = append(data.Chips, chipView{Status: sl.status, Label: sl.label, Count: n, Current: view.Status == sl.status,
			Href: s.opts.BaseURL + "/" + v.query(view.Sort, view.Desc) + "#sources"})
	}
	s.render(w, r, http.StatusOK, "index.html", data)
}

func (s *Server) newPageData(title string, now time.Time) pageData {
	return pageData{
		Title: title, Version: s.opts.Version, BaseURL: s.opts.BaseURL, Now: now,
		CSS: s.opts.BaseURL + "/assets/" + pageAssets().css.name,
	}
}

// feedPage is the human view of one published feed; it also advertises the
// feed's formats, so a reader given this page's URL finds them.
func (s *Server) feedPage(w http.ResponseWriter, r *http.Request, name string) {
	var view *feedView
	feeds := s.feedViews(0)
	for i := range feeds {
		if feeds[i].Name == name {
			view = &feeds[i]
		}
	}
	snap, ok := s.snaps.Snapshot(name, publish.Atom)
	if view == nil || !ok {
		http.Error(w, "no published feed named "+name, http.StatusNotFound)
		return
	}
	data := s.newPageData(view.Title+" · feedmill", time.Now())
	data.Feed, data.Alternates, data.RemoteImages = *view, []feedView{*view}, true
	for _, it := range snap.Entries {
		data.Entries = append(data.Entries, s.newItemView(it))
	}
	s.render(w, r, http.StatusOK, "feed.html", data)
}

// Limits of the source page's lists.
const (
	sourceFetches = 50
	sourceItems   = 20
)

// sourcePage serves /sources/{name}: a source's state, its recent fetch
// history and its recent items.
func (s *Server) sourcePage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	// Source names may hold dots: /sources/NAME.EXT is the source NAME's
	// own feed when EXT is rss, atom or json and NAME is a source, else
	// the page of the source named NAME.EXT.
	if prefix, ext, ok := cutLast(name, "."); ok {
		if f, isFeed := publish.ParseFormat(ext); isFeed && s.sourceIndex(prefix) >= 0 {
			s.sourceFeed(w, r, prefix, f)
			return
		}
	}
	idx := s.sourceIndex(name)
	if idx < 0 {
		http.Error(w, "no source named "+name, http.StatusNotFound)
		return
	}
	src := s.opts.Sources[idx]
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	now := time.Now()
	// This source's state alone: the page must not cost a read of every
	// source's.
	st, err := s.states.State(ctx, name)
	if err != nil {
		s.log.Error("source page: read state", "source", name, "err", err)
		http.Error(w, "the store is unavailable", http.StatusServiceUnavailable)
		return
	}
	st, _ = s.shown(st)
	d := sourceDetail{
		sourceRow: s.newSourceRow(idx, src, st, s.itemsPerDay(now), now),
		Schedule:  src.Schedule, FullText: src.FullText, Retention: src.Keep(),
		LastDuration: st.LastDuration, LastNew: st.LastNew, LastUpdated: st.LastUpdated,
	}
	if s.hist != nil {
		d.History = true
		if d.Fetches, err = s.hist.Fetches(ctx, name, sourceFetches); err == nil {
			for i := range d.Fetches {
				d.Fetches[i].Err = s.opts.Redactor.Text(d.Fetches[i].Err)
			}
			var items []feed.Item
			items, err = s.hist.Items(ctx, feed.Query{Sources: []string{name}, Limit: sourceItems, NoRaw: true})
			for _, it := range items {
				d.Recent = append(d.Recent, newEntryView(it))
			}
		}
		if err != nil {
			s.log.Error("source page: read history", "source", name, "err", err)
			http.Error(w, "the store is unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	data := s.newPageData(d.Title+" · feedmill", now)
	data.Source, data.ConfigProblems = d, s.configProblems()
	data.Alternates = []feedView{{Name: name, Title: d.Title, Atom: d.Feeds.Atom, RSS: d.Feeds.RSS, JSON: d.Feeds.JSON}}
	s.render(w, r, http.StatusOK, "source.html", data)
}

// sourceIndex returns the place of the named source in the config, or -1.
func (s *Server) sourceIndex(name string) int {
	for i, src := range s.opts.Sources {
		if src.Name == name {
			return i
		}
	}
	return -1
}

// sourceFeed serves /sources/NAME.{rss,atom,json}: the source's own feed,
// from its snapshot like the combined feeds; the publisher renders it on
// request when it holds none of the current one.
func (s *Server) sourceFeed(w http.ResponseWriter, r *http.Request, name string, f publish.Format) {
	snap, err := s.snaps.SourceSnapshot(r.Context(), name, f)
	switch {
	case errors.Is(err, publish.ErrNotFound):
		http.Error(w, "no source named "+name, http.StatusNotFound)
		return
	case err != nil:
		if r.Context().Err() == nil && !errors.Is(err, publish.ErrNotReady) {
			s.log.Error("source feed", "source", name, "format", f, "err", err)
		}
		http.Error(w, "the feed of source "+name+" is not rendered yet", http.StatusServiceUnavailable)
		return
	}
	s.serveSnapshot(w, r, snap, doc{name: name, format: f, source: true})
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	csp := s.csp
	if data.RemoteImages {
		csp = feedPageCSP(s.opts.BaseURL)
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := buf.WriteTo(w); err != nil {
		s.log.Debug("write page", "page", name, "err", err)
	}
}

// pageCSP is the Content-Security-Policy of the pages: nothing but the
// server's own stylesheet, script and JSON, from this origin or the base
// URL's (which the pages' links use), no inline script or style, no
// framing, no forms.
func pageCSP(baseURL string) string { return pagePolicy(baseURL, "") }

// feedPageCSP is pageCSP for the feed page, which shows each item's
// picture from where it is published: images may also come from any
// http(s) host. Everything else stays this server's; the pages'
// Referrer-Policy keeps the feed page's address from those hosts.
func feedPageCSP(baseURL string) string { return pagePolicy(baseURL, " https: http:") }

// pagePolicy is the pages' policy with images from self and images.
func pagePolicy(baseURL, images string) string {
	self := "'self'"
	if u, err := url.Parse(baseURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;,'\"\r\n") {
		self += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'none'; script-src " + self + "; style-src " + self + "; connect-src " + self +
		"; img-src " + self + images + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// writeJSON writes v as an indented JSON document that is not cached.
func writeJSON(w http.ResponseWriter, r *http.Request, log *slog.Logger, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		log.Error("encode json", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		if _, err := w.Write(body); err != nil {
			log.Debug("write json", "err", err)
		}
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// unixAttr writes a time for the script's sorting: Unix seconds, or ""
// for none.
func unixAttr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.Unix(), 10)
}

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// formatPerDay writes items per day as the table shows it: one decimal
// under ten, none above; "–" when unknown.
func formatPerDay(p *float64) string {
	switch {
	case p == nil:
		return "–"
	case *p == 0:
		return "0"
	case *p < 0.05:
		return "<0.1"
	case *p < 10:
		return strconv.FormatFloat(*p, 'f', 1, 64)
	}
	return strconv.FormatFloat(*p, 'f', 0, 64)
}

// formatDuration writes a fetch's duration: milliseconds under a second.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}
