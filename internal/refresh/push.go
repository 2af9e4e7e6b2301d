package refresh

import (
	"context"
	"fmt"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
)

// Ingest takes a feed body pushed to us (a WebSub content distribution) for
// the named source and handles it exactly like a fetched one: normalize,
// full text, cleaning, store, and OnChange. The source's fetch validators
// and schedule are left alone: polling goes on as a safety net.
func (r *Refresher) Ingest(ctx context.Context, name string, body []byte, contentType string) Result {
	src, ok := r.source(name)
	if !ok {
		return Result{Source: name, Err: fmt.Errorf("ingest: no source named %q", name)}
	}
	res := Result{Source: name, URL: src.URL, Status: 200}
	select {
	case r.workers <- struct{}{}:
		defer func() { <-r.workers }()
	case <-ctx.Done():
		res.Err = ctx.Err()
		return res
	}
	mu := r.locks[name]
	mu.Lock()
	start := r.now()
	now := start.UTC()
	res.Err = r.secrets.Error(r.ingest(ctx, src, body, contentType, now, &res))
	res.Duration = r.now().Sub(start)
	mu.Unlock()

	attrs := []any{"source", name, "bytes", len(body), "duration", res.Duration.Round(time.Millisecond)}
	if res.Err != nil {
		r.log.Warn("push rejected", append(attrs, "err", res.Err)...)
		return res
	}
	r.log.Info("push ingested", append(attrs, "new", res.New, "updated", res.Updated)...)
	if res.Changed() && r.onChange != nil {
		r.onChange(ctx)
	}
	return res
}

func (r *Refresher) ingest(ctx context.Context, src feed.Source, body []byte, contentType string, now time.Time, res *Result) error {
	st, err := r.store.State(ctx, src.Name)
	if err != nil {
		return err
	}
	st.Name = src.Name
	// Relative links in pushed content resolve against where the feed is
	// fetched from, as they would in a fetched copy.
	parsed, err := r.normalize(ctx, src, fetch.ToUTF8(body, contentType), st.FetchURL(src.URL), now)
	if err != nil {
		return fmt.Errorf("pushed content: %w", err)
	}
	prep, err := r.prepare(ctx, src, parsed, now, true, st.ItemCount)
	if err != nil {
		return fmt.Errorf("pushed content: %w", err)
	}
	if res.SaveResult, err = r.save(ctx, src, &st, parsed, prep, now); err != nil {
		return err
	}
	st.LastSuccess = now
	if st.FirstSuccess.IsZero() {
		st.FirstSuccess = now
	}
	if err := r.saveState(ctx, st); err != nil {
		return fmt.Errorf("save state of %s: %w", src.Name, err)
	}
	return nil
}
