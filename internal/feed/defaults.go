package feed

import "time"

// The defaults of the limits feeds.yaml may leave out, where more than the
// config needs them: config fills a Config with these, and fetch, refresh
// and websub read a zero option as the same value, so that a part built
// without a config behaves like one built from a feeds.yaml that leaves
// the key out. docs/configuration.md documents each (TestDocumentedDefaults
// in config keeps it true). DefaultRetention is with Source.
const (
	// DefaultFetchTimeout bounds one request: connecting, redirects,
	// headers and the whole body (fetch.timeout).
	DefaultFetchTimeout = 30 * time.Second
	// DefaultMaxBody is the body cap in bytes after decompression
	// (fetch.max_body).
	DefaultMaxBody = 10 << 20
	// DefaultConcurrency is how many requests are in flight at most
	// (fetch.concurrency).
	DefaultConcurrency = 8
	// DefaultPerHost is how many requests to one host are in flight at
	// most (fetch.per_host).
	DefaultPerHost = 2
	// DefaultMinGap is the least time between the starts of two requests
	// to one host (fetch.min_gap). It is a default of the config only: a
	// gap of 0, in the file or in fetch.Options, means none.
	DefaultMinGap = time.Second
	// DefaultFullTextLimit is how many article pages one refresh of a
	// full-text source fetches at most (fetch.full_text_limit). A default
	// of the config only: a limit of 0, in the file or in refresh.Options,
	// fetches none.
	DefaultFullTextLimit = 20
	// DefaultFullTextBudget is how long one refresh of a full-text source
	// may spend fetching article pages (fetch.full_text_budget).
	DefaultFullTextBudget = 60 * time.Second
	// DefaultBackoffMax caps the wait between two attempts of a failing
	// source (fetch.backoff_max).
	DefaultBackoffMax = 24 * time.Hour
	// DefaultLease is how long an instance holds a source it refreshes
	// before another may assume it died and take the source over
	// (storage.lease). It must exceed the longest refresh: the fetch
	// timeout plus the full-text budget.
	DefaultLease = 5 * time.Minute
)

// Default limits of the built-in WebSub hub (hub.*). The hub endpoint is
// public: past a limit it answers 429 (a client's or a callback host's) or
// 503 (the global ones) with Retry-After, instead of queueing or storing
// without end.
const (
	DefaultHubClientPending = 10    // hub.per_client_pending
	DefaultHubClientActive  = 100   // hub.per_client_subscriptions
	DefaultHubHostPending   = 10    // hub.per_host_pending
	DefaultHubHostActive    = 100   // hub.per_host_subscriptions
	DefaultHubPending       = 1000  // hub.max_pending
	DefaultHubActive        = 10000 // hub.max_subscriptions
)
