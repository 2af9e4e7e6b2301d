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
			})
		}},
		{"storage", func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"driver", d.asString(&c.Storage.Driver)},
				{"dsn", d.asString(&c.Storage.DSN)},
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
			})
		}},
		{"sources", func(v *yaml.Node, p string) {
			d.list(v, p, func(_ int, el *yaml.Node, p string) {
				// A bad element is kept (empty, and marked bad) so that
				// indexes in later messages match the file.
				s := Source{Retention: feed.DefaultRetention, Line: el.Line}
				d.item(el, p, []field{
					{"name", d.asString(&s.Name)},
					{"url", d.asString(&s.URL)},
					{"title", d.asString(&s.Title)},
					{"categories", d.asStrings(&s.Categories)},
					{"schedule", d.asString(&s.Schedule)},
					{"retention", d.asInt(&s.Retention)},
				})
				c.Sources = append(c.Sources, s)
			})
		}},
		{"feeds", func(v *yaml.Node, p string) {
			d.list(v, p, func(_ int, el *yaml.Node, p string) {
				f := Feed{Limit: DefaultFeedLimit, Line: el.Line}
				d.item(el, p, []field{
					{"name", d.asString(&f.Name)},
					{"title", d.asString(&f.Title)},
					{"description", d.asString(&f.Description)},
					{"sources", d.asStrings(&f.Sources)},
					{"categories", d.asStrings(&f.Categories)},
					{"limit", d.asInt(&f.Limit)},
				})
				c.Feeds = append(c.Feeds, f)
			})
		}},
	})
}
