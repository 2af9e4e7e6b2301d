package config

import (
	"github.com/feedmill/feedmill/internal/feed"
	"go.yaml.in/yaml/v3"
)

// decode maps the file's keys onto c. This is the whole schema of
// feeds.yaml: a key not listed here is an error.
func (d *decoder) decode(root *yaml.Node, c *Config) {
	d.mapping(root, "", []field{
		{"server", func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"listen", d.asString(&c.Server.Listen)},
				{"base_url", d.asString(&c.Server.BaseURL)},
				{"websub", func(v *yaml.Node, p string) {
					d.mapping(v, p, []field{
						{"hub", d.asString(&c.Server.WebSub)},
					})
				}},
			})
		}},
		{"storage", func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"driver", d.asString(&c.Storage.Driver)},
				{"dsn", d.asString(&c.Storage.DSN)},
				{"lease", d.asDuration(&c.Storage.Lease)},
				{"poll", d.asDuration(&c.Storage.Poll)},
			})
		}},
		{"schedule", d.asString(&c.Schedule)},
		{"fetch", func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"timeout", d.asDuration(&c.Fetch.Timeout)},
				{"max_body", d.asSize(&c.Fetch.MaxBody)},
				{"concurrency", d.asInt(&c.Fetch.Concurrency)},
				{"per_host", d.asInt(&c.Fetch.PerHost)},
				{"user_agent", d.asString(&c.Fetch.UserAgent)},
				{"full_text_limit", d.asInt(&c.Fetch.FullTextLimit)},
				{"full_text_budget", d.asDuration(&c.Fetch.FullTextBudget)},
				{"min_gap", d.asDuration(&c.Fetch.MinGap)},
				{"allow_private", d.asBool(&c.Fetch.AllowPrivate)},
				{"backoff_max", d.asAge(&c.Fetch.BackoffMax)},
				{"secret_params", d.asStrings(&c.Fetch.SecretParams)},
			})
		}},
		{"hub", func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"per_client_pending", d.asInt(&c.Hub.ClientPending)},
				{"per_client_subscriptions", d.asInt(&c.Hub.ClientSubscriptions)},
				{"per_host_pending", d.asInt(&c.Hub.HostPending)},
				{"per_host_subscriptions", d.asInt(&c.Hub.HostSubscriptions)},
				{"max_pending", d.asInt(&c.Hub.MaxPending)},
				{"max_subscriptions", d.asInt(&c.Hub.MaxSubscriptions)},
			})
		}},
		{"tracking_params", d.asStrings(&c.TrackingParams)},
		{"sources", func(v *yaml.Node, p string) {
			d.list(v, p, func(_ int, el *yaml.Node, p string) {
				// A bad element is kept (empty, and marked bad) so that
				// indexes in later messages match the file.
				s := Source{Retention: feed.DefaultRetention, Line: el.Line}
				respectCache := true
				d.item(el, p, []field{
					{"name", d.asString(&s.Name)},
					{"url", d.asString(&s.URL)},
					{"title", d.asString(&s.Title)},
					{"categories", d.asStrings(&s.Categories)},
					{"schedule", d.asString(&s.Schedule)},
					{"retention", d.asInt(&s.Retention)},
					{"full_text", d.asBool(&s.FullText)},
					{"content", func(v *yaml.Node, p string) {
						d.mapping(v, p, []field{
							{"select", d.asString(&s.Content.Select)},
							{"remove", d.asStrings(&s.Content.Remove)},
						})
					}},
					{"rewrite", func(v *yaml.Node, p string) {
						d.list(v, p, func(_ int, el *yaml.Node, p string) {
							// Kept even when bad, like sources, so that
							// indexes in messages match the file.
							r := feed.Rewrite{Field: feed.FieldContent}
							d.item(el, p, []field{
								{"field", d.asString(&r.Field)},
								{"pattern", d.asString(&r.Pattern)},
								{"replace", d.asString(&r.Replace)},
							})
							s.Rewrites = append(s.Rewrites, r)
						})
					}},
					{"priority", d.asInt(&s.Priority)},
					{"websub", d.asBool(&s.WebSub)},
					{"respect_cache", d.asBool(&respectCache)},
					{"type", d.asString(&s.Type)},
					{"items", func(v *yaml.Node, p string) {
						r := new(feed.ItemRules)
						d.mapping(v, p, []field{
							{"each", d.asString(&r.Each)},
							{"title", d.asString(&r.Title)},
							{"link", d.asString(&r.Link)},
							{"date", d.asString(&r.Date)},
							{"date_format", d.asString(&r.DateFormat)},
							{"summary", d.asString(&r.Summary)},
							{"content", d.asString(&r.Content)},
							{"image", d.asString(&r.Image)},
							{"author", d.asString(&r.Author)},
						})
						s.Items = r
					}},
				})
				// The file says it positively, as "respect the hints";
				// the zero value of Source must be the default.
				s.IgnoreCache = !respectCache
				c.Sources = append(c.Sources, s)
			})
		}},
		{"feeds", func(v *yaml.Node, p string) {
			d.list(v, p, func(_ int, el *yaml.Node, p string) {
				f := Feed{
					Backfill: DefaultBackfill, Limit: DefaultFeedLimit,
					Dedupe: DedupeLink, DedupeWindow: DefaultDedupeWindow, Line: el.Line,
				}
				d.item(el, p, []field{
					{"name", d.asString(&f.Name)},
					{"title", d.asString(&f.Title)},
					{"description", d.asString(&f.Description)},
					{"sources", d.asStrings(&f.Sources)},
					{"categories", d.asStrings(&f.Categories)},
					{"include", d.asStrings(&f.Include)},
					{"exclude", d.asStrings(&f.Exclude)},
					{"max_age", d.asAge(&f.MaxAge)},
					{"per_source_limit", d.asInt(&f.PerSourceLimit)},
					{"backfill", d.asBackfill(&f.Backfill)},
					{"limit", d.asInt(&f.Limit)},
					{"dedupe", d.asDedupe(&f.Dedupe)},
					{"dedupe_window", d.asDuration(&f.DedupeWindow)},
				})
				c.Feeds = append(c.Feeds, f)
			})
		}},
	})
}
