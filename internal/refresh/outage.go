package refresh

import (
	"context"
	"log/slog"
	"sync"

	"github.com/feedmill/feedmill/internal/feed"
)

// causeOther stands, among the outcomes outage keeps, for a failure with
// no network cause (a feed that does not parse): it is no source's
// network trouble, so it breaks a shared cause as a success does.
const causeOther feed.Cause = "-"

// outage notices when every source fails the same way (see
// feed.CommonCause): then the trouble is most likely this machine's (no
// network, no DNS), and the log says so once instead of once per source.
// It keeps the outcome of each source's last attempt in this process.
type outage struct {
	mu       sync.Mutex
	outcomes map[string]feed.Cause // "" for a success
	active   feed.Cause            // the shared cause, once it was logged
}

// record notes a source's outcome.
func (o *outage) record(source string, c feed.Cause) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.outcomes == nil {
		o.outcomes = make(map[string]feed.Cause)
	}
	o.outcomes[source] = c
}

// shared returns the cause every source with a known outcome shares, if
// there is one, and how many sources share it.
func (o *outage) shared() (feed.Cause, int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	causes := make([]feed.Cause, 0, len(o.outcomes))
	for _, c := range o.outcomes {
		causes = append(causes, c)
	}
	c, ok := feed.CommonCause(causes)
	return c, len(causes), ok
}

// told reports whether the outage of cause c was logged already.
func (o *outage) told(c feed.Cause) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return c != "" && o.active == c
}

// tell marks the outage of c as logged, and reports whether it was not
// yet (the caller logs it then).
func (o *outage) tell(c feed.Cause) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.active == c {
		return false
	}
	o.active = c
	return true
}

// end forgets the logged outage, returning its cause ("" when none).
func (o *outage) end() feed.Cause {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.active
	o.active = ""
	return c
}

// pass holds back the failure lines of a refresh pass for as long as every
// source in it has failed the same way: if the whole pass does, one line
// says so at its end (see Refresher.endPass); as soon as one source does
// otherwise, the lines held are written as they would have been.
type pass struct {
	mu     sync.Mutex
	cause  feed.Cause // the cause of every failure so far
	held   []logLine
	broken bool // a source did otherwise: nothing more is held
}

// logLine is a log line waiting to be written.
type logLine struct {
	msg   string
	attrs []any
}

// hold keeps line back when the pass is still all failures of cause c,
// and reports whether it did.
func (p *pass) hold(c feed.Cause, line logLine) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken || !c.Network() || (p.cause != "" && p.cause != c) {
		return false
	}
	p.cause = c
	p.held = append(p.held, line)
	return true
}

// breakOff ends the holding back and returns the lines held.
func (p *pass) breakOff() []logLine {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = true
	held := p.held
	p.held = nil
	return held
}

// logResult logs the outcome of one refresh: a line per source, except
// that failures of a cause every source shares are told once (at warning
// level) and then each only at debug level. p is the pass the refresh
// belongs to, nil for a refresh of its own (a cron tick, a sweep).
func (r *Refresher) logResult(ctx context.Context, res Result, attrs []any, p *pass) {
	switch {
	case res.Skipped != "":
		r.log.Info("refresh skipped", append(attrs, "reason", res.Skipped)...)
		return
	case res.Err == nil:
		r.outage.record(res.Source, "")
		r.writeHeld(ctx, p.breakOff(), slog.LevelWarn)
		if c := r.outage.end(); c != "" {
			r.log.Info("sources reachable again", "source", res.Source, "cause", string(c))
		}
		if res.NotModified {
			r.log.Info("refresh not modified", attrs...)
		} else {
			r.log.Info("refreshed", append(attrs, "new", res.New, "updated", res.Updated, "pruned", res.Pruned)...)
		}
		return
	}
	line := logLine{"refresh failed", append(attrs, "err", res.Err)}
	c := res.Cause
	if c == "" {
		c = causeOther
	}
	r.outage.record(res.Source, c)
	switch {
	case r.outage.told(c):
		r.log.Debug(line.msg, line.attrs...)
	case p.hold(c, line):
		// Told, or written, when the pass ends or breaks.
	default:
		r.writeHeld(ctx, p.breakOff(), slog.LevelWarn)
		if shared, _, ok := r.outage.shared(); ok && shared == c && p == nil {
			// The last source still working failed too.
			r.log.Debug(line.msg, line.attrs...)
			r.tellOutage(ctx)
			return
		}
		r.log.Warn(line.msg, line.attrs...)
	}
}

// endPass writes what a pass held back: when every source failed the same
// way, and every source this process knows of last failed so (see
// outage), one line tells it and the sources' own lines go to debug
// level; otherwise they are written as usual.
func (r *Refresher) endPass(ctx context.Context, p *pass) {
	p.mu.Lock()
	held, cause := p.held, p.cause
	p.held, p.broken = nil, true
	p.mu.Unlock()
	if len(held) == 0 {
		return
	}
	if c, _, ok := r.outage.shared(); ok && c == cause && (len(held) > 1 || r.outage.told(c)) {
		r.writeHeld(ctx, held, slog.LevelDebug)
		r.tellOutage(ctx)
		return
	}
	r.writeHeld(ctx, held, slog.LevelWarn)
}

// tellOutage logs, once, that every source fails the same way.
func (r *Refresher) tellOutage(ctx context.Context) {
	c, n, ok := r.outage.shared()
	if !ok || !r.outage.tell(c) {
		return
	}
	r.log.WarnContext(ctx, "every source failed the same way", "cause", string(c), "sources", n, "err", c.Words())
}

func (r *Refresher) writeHeld(ctx context.Context, lines []logLine, level slog.Level) {
	for _, l := range lines {
		r.log.Log(ctx, level, l.msg, l.attrs...)
	}
}
