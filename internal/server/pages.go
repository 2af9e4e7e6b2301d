package server

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
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
	funcs := template.FuncMap{"join": strings.Join}
	return template.Must(template.New("pages").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
}

type feedView struct {
	Name, Title, Description string
	Page, Atom, RSS, JSON    string
	Items                    int
}

type sourceView struct {
	Name, Title, URL, Link string
	Categories             []string
	Fetched                bool
	Status                 int
	Error                  string
	LastFetch, NextFetch   string
	LastFetchAgo           string
	LastSuccessAgo         string
	NextFetchIn            string
	Items                  int

	// Failures counts consecutive failed attempts; the next fetch is then
	// a backed-off retry.
	Failures   int
	Moved      string // permanent redirect target; the config should say so
	Discovered string // the feed autodiscovery found on the configured page
	Gone       bool   // 410: not polled until the URL changes
}

type entryView struct {
	Title, Link, Source string
	Date, DateISO       string
}

type pageData struct {
	Title, Version, BaseURL string
	Alternates              []feedView // feeds advertised for autodiscovery
	Feeds                   []feedView
	Sources                 []sourceView
	Feed                    feedView
	Entries                 []entryView
	// ConfigProblems are the problems of a changed config file that was
	// rejected: the daemon still runs the previous one.
	ConfigProblems []string
}

func (s *Server) feedViews() []feedView {
	var out []feedView
	for _, spec := range s.snaps.Feeds() {
		v := feedView{
			Name: spec.Name, Title: spec.Title, Description: spec.Description,
			Page: s.opts.BaseURL + "/feeds/" + spec.Name,
			Atom: publish.FeedURL(s.opts.BaseURL, spec.Name, publish.Atom),
			RSS:  publish.FeedURL(s.opts.BaseURL, spec.Name, publish.RSS),
			JSON: publish.FeedURL(s.opts.BaseURL, spec.Name, publish.JSON),
		}
		if snap, ok := s.snaps.Snapshot(spec.Name, publish.Atom); ok {
			v.Items = snap.Items
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	sts, err := s.states.States(ctx)
	if err != nil {
		s.log.Error("index: read states", "err", err)
		http.Error(w, "the store is unavailable", http.StatusServiceUnavailable)
		return
	}
	byName := stateIndex(sts)
	now := time.Now()
	feeds := s.feedViews()
	data := pageData{Title: "feedmill", Version: s.opts.Version, BaseURL: s.opts.BaseURL, Feeds: feeds, Alternates: feeds}
	data.ConfigProblems = s.configProblems()
	for _, src := range s.opts.Sources {
		data.Sources = append(data.Sources, newSourceView(src, byName[src.Name], now))
	}
	s.render(w, r, "index.html", data)
}

// newSourceView describes a source and its fetch state for the status
// page.
func newSourceView(src feed.Source, st feed.SourceState, now time.Time) sourceView {
	v := sourceView{
		Name: src.Name, Title: firstNonEmpty(src.Title, st.FeedTitle, src.Name), URL: src.URL, Link: st.FeedLink,
		Categories: src.Categories, Fetched: !st.LastFetch.IsZero(), Status: st.LastStatus, Error: st.LastError, Items: st.ItemCount,
		Failures: st.Failures, Moved: st.Moved, Discovered: st.Discovered, Gone: st.Gone,
	}
	if v.Fetched {
		v.LastFetch = st.LastFetch.UTC().Format(time.RFC3339)
		v.LastFetchAgo = ago(now, st.LastFetch)
		if st.LastError != "" && !st.LastSuccess.IsZero() {
			v.LastSuccessAgo = ago(now, st.LastSuccess)
		}
	}
	// A gone source has no next fetch, whatever time was stored last.
	if !st.NextFetch.IsZero() && !st.Gone {
		v.NextFetch = st.NextFetch.UTC().Format(time.RFC3339)
		v.NextFetchIn = until(now, st.NextFetch)
	}
	return v
}

// feedPage is the human view of one published feed; it also advertises the
// feed's formats, so a reader given this page's URL finds them.
func (s *Server) feedPage(w http.ResponseWriter, r *http.Request, name string) {
	var view *feedView
	feeds := s.feedViews()
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
	data := pageData{Title: view.Title + " · feedmill", Version: s.opts.Version, BaseURL: s.opts.BaseURL, Feed: *view, Alternates: []feedView{*view}}
	for _, it := range snap.Entries {
		data.Entries = append(data.Entries, entryView{
			Title: firstNonEmpty(it.Title, "(untitled)"), Link: it.Link, Source: it.Source,
			Date: it.Date().UTC().Format("2 Jan 2006 15:04 MST"), DateISO: it.Date().UTC().Format(time.RFC3339),
		})
	}
	s.render(w, r, "feed.html", data)
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
	if r.Method == http.MethodHead {
		return
	}
	if _, err := buf.WriteTo(w); err != nil {
		s.log.Debug("write page", "page", name, "err", err)
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

func ago(now, t time.Time) string {
	return human(now.Sub(t)) + " ago"
}

func until(now, t time.Time) string {
	if d := t.Sub(now); d > 0 {
		return "in " + human(d)
	}
	return "due now"
}

func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
