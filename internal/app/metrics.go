package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/feedmill/feedmill/internal/metrics"
	"github.com/feedmill/feedmill/internal/refresh"
)

// newMetrics returns the daemon's metrics, reading the store's size at
// each scrape. It outlives config reloads: series of sources and feeds a
// reload removes are forgotten (see forgetRemoved).
func newMetrics(st Store, logger *slog.Logger) *metrics.Metrics {
	return metrics.New(metrics.Options{
		StoreSize: st.Size,
		Logger:    logger.With("component", "metrics"),
		Version:   Version(),
	})
}

// observeResult records one refresh of a source in m.
func observeResult(m *metrics.Metrics, res refresh.Result) {
	outcome := metrics.OutcomeOK
	switch {
	case res.Skipped != "":
		outcome = metrics.OutcomeSkipped
	case res.TimedOut:
		outcome = metrics.OutcomeTimeout
	case res.Err != nil:
		outcome = metrics.OutcomeError
	case res.NotModified:
		outcome = metrics.OutcomeNotModified
	}
	m.ObserveFetch(res.Source, res.Duration, res.Status, outcome, res.New, res.Updated, res.Failures, time.Now())
}

// seedMetrics sets each source's last success from the stored states, so
// that the series mean something before the first refresh of this process.
func seedMetrics(ctx context.Context, m *metrics.Metrics, st Store, logger *slog.Logger) {
	states, err := st.States(ctx)
	if err != nil {
		logger.Warn("metrics: read source states", "err", err)
		return
	}
	for _, s := range states {
		if !s.LastSuccess.IsZero() {
			m.LastSuccess(s.Name, s.LastSuccess)
		}
	}
}
