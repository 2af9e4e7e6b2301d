package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedmill/feedmill/bench/internal/gen"
)

// hosts are the farm's host names: five loopback addresses, so that the
// fetcher's per-host limits see five servers.
var hosts = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}

// farmStats counts what the farm saw since its last reset (each read of
// /stats resets it).
type farmStats struct {
	Requests    int64 `json:"requests"`
	Conditional int64 `json:"conditional"` // carrying If-None-Match
	NotModified int64 `json:"not_modified"`
	BodyBytes   int64 `json:"body_bytes"`
	// Per feed: how many feeds were requested, the most requests one
	// feed got, and how many feeds were requested more than once (by
	// several instances sharing the sources, a double fetch).
	Feeds      int64 `json:"feeds"`
	MaxPerFeed int64 `json:"max_per_feed"`
	Doubles    int64 `json:"doubles"`
}

// farm serves n feeds spread over hosts, each answering after delay. Feed i
// is at version[i]; its ETag names the version, and a request whose
// If-None-Match carries it gets a 304.
type farm struct {
	n, items int
	delay    time.Duration
	version  []atomic.Int64
	counts   []atomic.Int64 // requests of each feed since the last reset

	mu     sync.Mutex
	bodies map[[2]int64][]byte // (feed, version) -> body, rendered once

	requests, conditional, notModified, bodyBytes atomic.Int64
}

// feedURL is where feed i is served, given the port of each host.
func feedURL(ports []string, i int) string {
	h := i % len(hosts)
	return fmt.Sprintf("http://%s:%s/feed/%d", hosts[h], ports[h], i)
}

func etag(i int, v int64) string { return fmt.Sprintf(`"%d-%d"`, i, v) }

// body renders feed i at version v: every third feed is RSS, Atom or JSON
// Feed, every fourth carries long HTML content, and each version adds one
// newer entry and drops the oldest.
func (f *farm) body(i int, v int64) ([]byte, string) {
	ct := [...]string{"application/rss+xml", "application/atom+xml", "application/feed+json"}[i%3]
	key := [2]int64{int64(i), v}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.bodies[key]; ok {
		return b, ct
	}
	base := fmt.Sprintf("https://site%d.example.org", i)
	entries := gen.Entries(base, int(v), f.items, i%4 == 0)
	title := fmt.Sprintf("Site %d", i)
	var b []byte
	switch i % 3 {
	case 0:
		b = gen.RSS(title, base, entries)
	case 1:
		b = gen.Atom(title, base, entries)
	default:
		b = gen.JSONFeed(title, base, entries)
	}
	f.bodies[key] = b
	return b, ct
}

func (f *farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/bump" && r.Method == http.MethodPost:
		// Every mod-th feed gets a new version.
		mod, err := strconv.Atoi(r.URL.Query().Get("mod"))
		if err != nil || mod < 1 {
			http.Error(w, "bad mod", http.StatusBadRequest)
			return
		}
		for i := 0; i < f.n; i += mod {
			f.version[i].Add(1)
		}
		return
	case r.URL.Path == "/stats":
		st := farmStats{Requests: f.requests.Swap(0), Conditional: f.conditional.Swap(0), NotModified: f.notModified.Swap(0), BodyBytes: f.bodyBytes.Swap(0)}
		for i := range f.counts {
			c := f.counts[i].Swap(0)
			if c > 0 {
				st.Feeds++
			}
			if c > 1 {
				st.Doubles++
			}
			st.MaxPerFeed = max(st.MaxPerFeed, c)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
		return
	}
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
	if err != nil || i < 0 || i >= f.n {
		http.NotFound(w, r)
		return
	}
	f.requests.Add(1)
	f.counts[i].Add(1)
	select {
	case <-time.After(f.delay):
	case <-r.Context().Done():
		return
	}
	v := f.version[i].Load()
	tag := etag(i, v)
	w.Header().Set("ETag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		f.conditional.Add(1)
		if inm == tag {
			f.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	b, ct := f.body(i, v)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	f.bodyBytes.Add(int64(len(b)))
	w.Write(b)
}

// serveFarm is the child process: it listens on every host, prints the
// ports on one line and serves until its stdin closes (the parent exited).
func serveFarm(n, items int, delay time.Duration) error {
	f := &farm{n: n, items: items, delay: delay, version: make([]atomic.Int64, n), counts: make([]atomic.Int64, n), bodies: make(map[[2]int64][]byte)}
	for i := range n {
		f.body(i, 0) // render up front: the farm should cost nothing while measured
	}
	var ports []string
	for _, h := range hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, "0"))
		if err != nil {
			return fmt.Errorf("listen on %s: %w", h, err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, port)
		srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
	}
	fmt.Println(strings.Join(ports, " "))
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// startFarm runs the farm in a child process, so that its CPU time is not
// counted as the client's, and returns its ports and a stop function.
func startFarm(n, items int, delay time.Duration) ([]string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(self, "-farm", "-feeds", strconv.Itoa(n), "-items", strconv.Itoa(items), "-delay", delay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("farm stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("farm stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start farm: %w", err)
	}
	stop := func() {
		stdin.Close()
		cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("farm did not start: %w", err)
	}
	ports := strings.Fields(line)
	if len(ports) != len(hosts) {
		stop()
		return nil, nil, fmt.Errorf("farm said %q, want %d ports", line, len(hosts))
	}
	return ports, stop, nil
}
