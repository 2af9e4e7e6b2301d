// Command servefarm is the feed farm of bench/serve.sh: it serves N RSS 2.0
// feeds spread over the loopback addresses 127.0.0.1..127.0.0.H (one
// listener per address, the same port), each answering after a fixed delay
// and honouring If-None-Match with 304. Every feed is rendered once at
// start, so the farm costs a reader nothing but the delay and the copy.
//
// Feed i is served at http://127.0.0.(i%H+1):PORT/feed/i.xml. With -config
// it also writes a feedmill config that fetches every feed of the farm.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "servefarm:", err)
		os.Exit(1)
	}
}

type farmOptions struct {
	feeds, items, content, hosts, port int
	delay                              time.Duration
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("servefarm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o farmOptions
	fs.IntVar(&o.feeds, "feeds", 10, "number of feeds")
	fs.IntVar(&o.items, "items", 10, "items per feed")
	fs.IntVar(&o.content, "content", 2048, "bytes of HTML content per item, about")
	fs.IntVar(&o.hosts, "hosts", 5, "loopback addresses to spread the feeds over (127.0.0.1..127.0.0.H), 1..254")
	fs.IntVar(&o.port, "port", 18900, "port every address listens on")
	fs.DurationVar(&o.delay, "delay", 20*time.Millisecond, "time before each answer")
	configPath := fs.String("config", "", "also write a feedmill config of every feed here")
	listen := fs.String("listen", "127.0.0.1:18080", "listen address for that config's server section")
	dsn := fs.String("dsn", "bench.db", "sqlite file for that config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.feeds < 1 || o.items < 0 || o.hosts < 1 || o.hosts > 254 || o.content < 0 {
		return errors.New("want -feeds >= 1, -items >= 0, -content >= 0, 1 <= -hosts <= 254")
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))

	docs := render(o)
	if *configPath != "" {
		if err := os.WriteFile(*configPath, []byte(config(o, *listen, *dsn)), 0o644); err != nil {
			return fmt.Errorf("write config: %w", err)
		}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/feed/")
		num, ok2 := strings.CutSuffix(name, ".xml")
		i, err := strconv.Atoi(num)
		if !ok || !ok2 || err != nil || i < 0 || i >= len(docs) {
			http.NotFound(w, r)
			return
		}
		select {
		case <-time.After(o.delay):
		case <-r.Context().Done():
			return
		}
		d := &docs[i]
		h := w.Header()
		h.Set("ETag", d.etag)
		h.Set("Content-Type", "application/rss+xml; charset=utf-8")
		if r.Header.Get("If-None-Match") == d.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(d.body)))
		w.Write(d.body) //nolint:errcheck // a reader that went away is not the farm's problem
	})

	errc := make(chan error, o.hosts)
	var servers []*http.Server
	for k := 1; k <= o.hosts; k++ {
		addr := net.JoinHostPort(fmt.Sprintf("127.0.0.%d", k), strconv.Itoa(o.port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, s := range servers {
				s.Close()
			}
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("farm ready", "feeds", o.feeds, "items", o.items, "hosts", o.hosts, "port", o.port, "delay", o.delay)
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type doc struct {
	body []byte
	etag string
}

// url is where the farm serves feed i.
func (o farmOptions) url(i int) string {
	return fmt.Sprintf("http://127.0.0.%d:%d/feed/%d.xml", i%o.hosts+1, o.port, i)
}

// render builds every feed. Items are dated an hour apart going back from
// a fixed moment, so that the documents, and their ETags, are the same in
// every run, and each item links to a page of its own.
func render(o farmOptions) []doc {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Words drawn by a seeded generator: text that compresses about as
	// well as prose does (3 to 4 times), the same in every run.
	words := strings.Fields("the a of and to in is that for it as with was on be by this are from at or an which have not but had has they were their been one more all would there when will can who so what about into than them out only other its some time new over also after these could our two first may any most people where should between such world through state year while both being same long well under since")
	rng := rand.New(rand.NewPCG(1, 2))
	docs := make([]doc, o.feeds)
	var b strings.Builder
	for i := range docs {
		b.Reset()
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Farm feed %d</title><link>http://farm%d.example/</link><description>Feed %d of the serve benchmark farm</description>
`, i, i, i)
		for j := range o.items {
			var content strings.Builder
			fmt.Fprintf(&content, "<p>Item %d of feed %d.</p>", j, i)
			// Numbered paragraphs: no two items share a block, which
			// boilerplate learning would otherwise take for a site's chrome.
			for k := 0; content.Len() < o.content; k++ {
				fmt.Fprintf(&content, "<p>Paragraph %d of item %d of feed %d.", k, j, i)
				for range 40 {
					content.WriteString(" ")
					content.WriteString(words[rng.IntN(len(words))])
				}
				content.WriteString(".</p>")
			}
			fmt.Fprintf(&b, "<item><title>Farm %d, item %d</title><link>http://farm%d.example/posts/%d</link><guid>farm-%d-%d</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
				i, j, i, j, i, j, base.Add(-time.Duration(i*o.items+j)*time.Minute).Format(time.RFC1123Z), html.EscapeString(content.String()))
		}
		b.WriteString("</channel></rss>\n")
		sum := sha256.Sum256([]byte(b.String()))
		docs[i] = doc{body: []byte(b.String()), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return docs
}

// config is a feedmill config fetching every feed of the farm, publishing
// one feed "all" of the newest 100 items; no gap between requests to one
// host, since the farm is the only server asked. It is a production
// config in what serving does: a base_url and the built-in WebSub hub
// (so every feed response carries the hub and self Link lines), and
// /metrics counting every request, which feedmill always serves.
func config(o farmOptions, listen, dsn string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# written by bench/servefarm
server:
  listen: %s
  base_url: http://%s
  websub:
    hub: builtin
storage:
  dsn: %s
schedule: "@every 24h"
fetch:
  concurrency: 16
  per_host: 4
  min_gap: 0s
  timeout: 60s
feeds:
  - name: all
    title: Everything
    sources: ["*"]
    limit: 100
    backfill: all
sources:
`, listen, listen, dsn)
	for i := range o.feeds {
		fmt.Fprintf(&b, "  - name: farm-%d\n    url: %s\n", i, o.url(i))
	}
	return b.String()
}
