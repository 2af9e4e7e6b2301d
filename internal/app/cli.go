package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/refresh"
)

// newLogger returns the logger the commands log with: slog's text or JSON
// handler (format "text" or "json") on w, at level. Any other format is a
// command line error. In JSON, durations are written as in text ("1.5s",
// "250ms"), not as slog's default integer nanoseconds.
func newLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			return durationText(groups, redactAttr(groups, a))
		}})), nil
	}
	return nil, fmt.Errorf("-log-format: %q is not a log format; use text or json", format)
}

// redactAttr hides the secrets of URLs in a log line's message, strings
// and errors, with the default secret parameter names (the logger exists
// before the config is read). It is a net under the callers, which redact
// with the config's names (fetch.secret_params) where they name a URL:
// no log line must carry a password or a key, whichever path it took.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	var secrets feed.Redactor
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "://") {
			a.Value = slog.StringValue(secrets.Text(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if s := err.Error(); strings.Contains(s, "://") {
				a.Value = slog.StringValue(secrets.Text(s))
			}
		}
	}
	return a
}

// durationText writes a duration attribute as text.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// terminalWidth reports whether w is a terminal, and its width in columns
// (0 when it cannot be told). Only an *os.File can be one: a pipe, a
// regular file or /dev/null (a character device, but not a terminal) is
// not.
func terminalWidth(w io.Writer) (cols int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile || f == nil || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		cols = 0
	}
	return cols, true
}

// barWidth is how many cells the progress bar has between its brackets on
// a terminal wide enough.
const barWidth = 20

// progress draws the one-line progress bar of `feedmill fetch` on a
// terminal: `[#####...............] 42/120 sources, 3 failed, 00:07`,
// redrawn in place with a carriage return as sources finish and once a
// second for the clock.
//
// Everything else written to the terminal while the bar is up must go
// through progress.Write (the logger's handler and the summary do), which
// erases the bar, writes the text on its own line and draws the bar again
// below it: log lines scroll above the bar instead of being cut into it.
// It is safe for concurrent use; the refresher reports results from its
// workers.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	cols   int // terminal width; 0 if unknown
	now    func() time.Time
	total  int
	done   int
	failed int
	start  time.Time
	drawn  bool      // the bar is on the screen
	active bool      // between begin and end
	last   time.Time // of the last redraw
	stop   chan struct{}
	ticker sync.WaitGroup
}

// newProgress returns a bar on w, a terminal cols columns wide (0:
// unknown). It draws nothing until begin.
func newProgress(w io.Writer, cols int, now func() time.Time) *progress {
	if now == nil {
		now = time.Now
	}
	return &progress{w: w, cols: cols, now: now}
}

// begin shows the bar for total sources and starts its clock. tick is how
// often the clock is redrawn (0: never, for tests).
func (p *progress) begin(total int, tick time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active {
		return
	}
	p.total, p.done, p.failed = total, 0, 0
	p.start = p.now()
	p.active = true
	p.draw()
	if tick <= 0 {
		return
	}
	stop := make(chan struct{})
	p.stop = stop
	p.ticker.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.mu.Lock()
				if p.active {
					p.draw()
				}
				p.mu.Unlock()
			}
		}
	})
}

// observe counts one finished source; it is the refresher's OnResult.
// Redraws are limited to ten a second, except for the last source.
func (p *progress) observe(res refresh.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if res.Err != nil {
		p.failed++
	}
	if p.active && (p.done >= p.total || p.now().Sub(p.last) >= 100*time.Millisecond) {
		p.draw()
	}
}

// end erases the bar and stops its clock; what is written afterwards goes
// straight to the terminal. It may be called more than once.
func (p *progress) end() {
	p.mu.Lock()
	p.clear()
	p.active = false
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		p.ticker.Wait()
	}
}

// Write writes b above the bar: it erases the bar, writes b and, while
// the bar is active, draws it again on a fresh line. Text that does not
// end its line gets a line break, or the bar would be drawn into it.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active {
		return p.w.Write(b)
	}
	p.clear()
	n, err := p.w.Write(b)
	if err != nil {
		return n, err
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		if _, err := io.WriteString(p.w, "\n"); err != nil {
			return n, err
		}
	}
	p.draw()
	return n, nil
}

// endingWriter ends the bar before the first thing written through it:
// the summary of a fetch pass replaces the bar.
type endingWriter struct{ p *progress }

func (e endingWriter) Write(b []byte) (int, error) {
	e.p.end()
	return e.p.Write(b)
}

// clear erases the bar from the screen; p.mu is held.
func (p *progress) clear() {
	if p.drawn {
		// Back to the line's start, then erase to its end (ANSI EL).
		_, _ = io.WriteString(p.w, "\r\x1b[K") // a terminal that fails a write fails the next one too
		p.drawn = false
	}
}

// draw (re)draws the bar; p.mu is held.
func (p *progress) draw() {
	p.last = p.now()
	line := p.line()
	_, _ = io.WriteString(p.w, "\r"+line+"\x1b[K") // see clear
	p.drawn = true
}

// line renders the bar, narrowed to fit the terminal.
func (p *progress) line() string {
	elapsed := p.now().Sub(p.start)
	text := fmt.Sprintf(" %d/%d sources, %d failed, %s", p.done, p.total, p.failed, clock(elapsed))
	width := barWidth
	if p.cols > 0 {
		// Keep one column free: writing the last one makes some
		// terminals wrap, and the bar would then scroll.
		width = min(width, p.cols-1-len(text)-2)
	}
	if width < 5 {
		return strings.TrimSpace(text)
	}
	filled := width
	if p.total > 0 {
		filled = min(width, p.done*width/p.total)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]" + text
}

// clock formats an elapsed time as mm:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// fetchRequest is what `feedmill fetch` was asked for: the sources named
// on its command line (names or globs; none for every source), and -force.
type fetchRequest struct {
	sources []string
	force   bool
}

// fetchCommand is `feedmill fetch`: one refresh of the sources req names
// and its summary (fetchOnce), under a progress bar when bar is not nil.
// stderr and the logger must then write through bar. A name or glob that
// selects no source is a command line error (exit status 2), with the
// source it was probably meant to be.
func fetchCommand(ctx context.Context, path string, req fetchRequest, stderr io.Writer, logger *slog.Logger, bar *progress) error {
	if bar == nil {
		return withPipeline(ctx, path, stderr, logger, func(p *pipeline) error { return fetchOnce(ctx, p, req, stderr) })
	}
	defer bar.end()
	return withPipeline(ctx, path, stderr, logger, func(p *pipeline) error {
		p.onResult = bar.observe
		names, err := p.cfg.SelectSources(req.sources)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		bar.begin(len(names), time.Second)
		return fetchOnce(ctx, p, req, endingWriter{bar})
	})
}
