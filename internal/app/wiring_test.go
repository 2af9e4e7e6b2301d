package app

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/config"
)

// TestFetchOptions pins how the config's fetch settings reach the fetcher,
// in particular min_gap, whose 0 means "none" in feeds.yaml and in
// fetch.Options alike.
func TestFetchOptions(t *testing.T) {
	tests := []struct {
		name             string
		yaml             string
		wantGap          time.Duration
		wantAllowPrivate bool
	}{
		{"defaults", "", time.Second, false},
		{"no gap", "fetch:\n  min_gap: 0s\n", 0, false},
		{"a longer gap", "fetch:\n  min_gap: 5s\n", 5 * time.Second, false},
		{"private addresses allowed", "fetch:\n  allow_private: true\n", time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.yaml+"sources:\n  - name: a\n    url: https://a.example/feed\n"), "feeds.yaml")
			if err != nil {
				t.Fatal(err)
			}
			opts := fetchOptions(cfg)
			if opts.MinGap != tt.wantGap || opts.AllowPrivate != tt.wantAllowPrivate {
				t.Errorf("MinGap %v, AllowPrivate %v; want %v, %v", opts.MinGap, opts.AllowPrivate, tt.wantGap, tt.wantAllowPrivate)
			}
			if opts.Timeout != cfg.Fetch.Timeout || opts.MaxBody != cfg.Fetch.MaxBody || opts.PerHost != cfg.Fetch.PerHost || opts.Concurrency != cfg.Fetch.Concurrency {
				t.Errorf("limits not passed on: %+v from %+v", opts, cfg.Fetch)
			}
		})
	}
}

// TestLoggerHidesSecrets pins the log's own net under the callers: a URL
// with secrets in a message, a string or an error is written redacted, in
// both formats.
func TestLoggerHidesSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var out strings.Builder
			logger, err := newLogger(&out, format, slog.LevelDebug)
			if err != nil {
				t.Fatal(err)
			}
			logger.Warn("fetch http://user:s3cr3t@h/f?apikey=K3Y&page=2 failed",
				"url", "http://h/f?token=T0K&page=2",
				"err", fmt.Errorf("Get %q: refused", "http://h/f?sig=S1G&page=2"),
				"duration", time.Second)
			for _, s := range []string{"s3cr3t", "K3Y", "T0K", "S1G"} {
				if strings.Contains(out.String(), s) {
					t.Errorf("the log carries %q: %s", s, out.String())
				}
			}
			if strings.Count(out.String(), "page=2") != 3 || !strings.Contains(out.String(), "1s") {
				t.Errorf("the log lost what is not secret: %s", out.String())
			}
		})
	}
}
