package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/feedmill/feedmill/internal/config"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/server"
)

// Source statuses of `feedmill sources`.
const (
	statusOK      = "ok"
	statusFailing = "failing"
	statusGone    = "gone"
	statusMoved   = "moved"
	statusNever   = "never fetched"
	statusPaused  = "paused"
)

// sourceStatus says in a word or two how the source configured at url is
// doing, given its stored state: its feed.Condition, a feed found on the
// source's page being as good as one at the configured URL.
func sourceStatus(st feed.SourceState, url string, now time.Time) string {
	switch st.Condition(url, now) {
	case feed.NeverFetched:
		return statusNever
	case feed.Gone:
		return statusGone
	case feed.Paused:
		return statusPaused
	case feed.Failing:
		return statusFailing
	case feed.Moved:
		return statusMoved
	}
	return statusOK
}

// listSources is `feedmill sources`: a table of every configured source
// with its state in the store, in config order, on w. The last error is
// cut to fit a line of width columns (0: not cut).
func listSources(ctx context.Context, path string, w, stderr io.Writer, width int, logger *slog.Logger) error {
	return withStore(ctx, path, stderr, logger, func(cfg *config.Config, st Store) error {
		states, err := st.States(ctx)
		if err != nil {
			return err
		}
		return writeSourceTable(w, cfg, states, time.Now(), width)
	})
}

// writeSourceTable writes the table of `feedmill sources`.
func writeSourceTable(w io.Writer, cfg *config.Config, states []feed.SourceState, now time.Time, width int) error {
	byName := make(map[string]feed.SourceState, len(states))
	for _, s := range states {
		byName[s.Name] = s
	}

	// The columns before the last error are aligned by tabwriter; the
	// error column starts where they end on every line, so it is cut to
	// what is left of the width.
	var cols bytes.Buffer
	tw := tabwriter.NewWriter(&cols, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tLAST SUCCESS\tFAILURES\tNEXT FETCH\tITEMS\t")
	errs := []string{"LAST ERROR"}
	for _, src := range cfg.Sources {
		// A state recorded under the URL the source had before says
		// nothing about the new one but how many items it stored.
		s := byName[src.Name].For(src.URL)
		items := s.ItemCount
		status := sourceStatus(s, src.URL, now)
		failures := "-"
		if s.Failures > 0 {
			failures = fmt.Sprint(s.Failures)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t\n", src.Name, status, ago(s.LastSuccess, now), failures, nextFetch(s, status, now), items)
		// An error stored by an older feedmill may name a URL with its
		// secrets.
		errs = append(errs, oneLine(cfg.Redactor().Text(s.LastError)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(cols.String(), "\n"), "\n")
	for i, line := range lines {
		text := errs[i]
		if text == "" {
			text = "-"
		}
		if width > 0 {
			// The last column stays free: a line that fills it makes
			// some terminals wrap.
			text = cutText(text, max(width-1-utf8.RuneCountInString(line), 20))
		}
		if _, err := fmt.Fprintf(w, "%s%s\n", line, text); err != nil {
			return err
		}
	}
	return nil
}

// ago says when t was, by the pages' rule (server.When) with distances in
// their largest unit: "40s ago", "3m ago", "5h ago", "2d ago" within a
// week, the day ("12 Nov 2026") beyond; "-" when t is zero.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return server.When(now, t, span)
}

// nextFetch says when the source is fetched next: "in 12m", "due" (at
// the daemon's next look), "now" for a source never fetched, "never" for
// a gone one. A time set by anything but the schedule says by what: "in
// 3h (backoff)".
func nextFetch(st feed.SourceState, status string, now time.Time) string {
	switch {
	case status == statusGone:
		return "never"
	case status == statusNever:
		return "now"
	case st.NextFetch.IsZero() || !st.NextFetch.After(now):
		return "due"
	}
	next := server.When(now, st.NextFetch, span)
	if why := nextShort[st.NextReason]; why != "" {
		next += " (" + why + ")"
	}
	return next
}

// nextShort names, for the table, what set a next fetch other than the
// schedule (see feed.SourceState.NextWords for the long form).
var nextShort = map[string]string{
	feed.NextCache:      "cache hints",
	feed.NextBackoff:    "backoff",
	feed.NextRetryAfter: "Retry-After",
	feed.NextHostPaused: "host paused",
}

// span writes a duration in its largest unit, rounded down.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// oneLine collapses the white space of an error message (joined errors
// span lines) so that it fits on its row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cutText cuts s to at most n characters, marking the cut with "…".
func cutText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
