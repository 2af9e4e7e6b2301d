package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/refresh"
	"github.com/feedmill/feedmill/internal/testkit"
	"github.com/jackc/pgx/v5"
)

// postgresDSN returns the DSN of a fresh schema in the PostgreSQL database
// FEEDMILL_TEST_POSTGRES names, dropped when the test ends; the test skips
// without one.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("FEEDMILL_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL tests are off: set FEEDMILL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "feedmill_cluster_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to FEEDMILL_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// farm serves n feeds of three items each, /feed/I.xml, with ETags, after
// a delay it can change, and counts the requests for each feed.
type farm struct {
	*httptest.Server
	counts []atomic.Int64
	delay  atomic.Int64 // nanoseconds
	mu     sync.Mutex
	times  [][]time.Time // of each feed's requests
}

// shortGaps returns the feeds fetched again sooner than min after a
// fetch, counting the requests since since, with the shortest such gap.
func (f *farm) shortGaps(min time.Duration, since time.Time) map[int]time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	short := map[int]time.Duration{}
	for i, times := range f.times {
		for k := 1; k < len(times); k++ {
			if times[k].Before(since) {
				continue
			}
			if gap := times[k].Sub(times[k-1]); gap < min {
				short[i] = gap
			}
		}
	}
	return short
}

func newFarm(t *testing.T, n int) *farm {
	f := &farm{counts: make([]atomic.Int64, n), times: make([][]time.Time, n)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/feed/"), ".xml"))
		if err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		f.counts[i].Add(1)
		now := time.Now()
		f.mu.Lock()
		f.times[i] = append(f.times[i], now)
		f.mu.Unlock()
		select {
		case <-time.After(time.Duration(f.delay.Load())):
		case <-r.Context().Done():
			return
		}
		etag := fmt.Sprintf(`"feed-%d"`, i)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("ETag", etag)
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>https://feed%d.example/</link><description>d</description>`, i, i)
		for k := range 3 {
			fmt.Fprintf(w, `<item><title>Feed %d story %d</title><link>https://feed%d.example/%d</link><pubDate>%s</pubDate><description>Story %d of feed %d.</description></item>`,
				i, k, i, k, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*3+k)*time.Minute).Format(time.RFC1123Z), k, i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(f.Close)
	return f
}

// fetched counts the feeds requested at least once, and the most requests
// any one feed had.
func (f *farm) fetched() (distinct int, most int64) {
	for i := range f.counts {
		c := f.counts[i].Load()
		if c > 0 {
			distinct++
		}
		most = max(most, c)
	}
	return distinct, most
}

// cluster is N `feedmill serve` processes on one PostgreSQL schema and one
// feeds.yaml, each listening on its own port (-listen).
type cluster struct {
	config  string
	base    string // the config's base_url, the same for all
	ports   []int
	daemons []*daemon
}

func newCluster(t *testing.T, f *farm, n int, dsn, schedule string) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := &cluster{config: filepath.Join(dir, "feeds.yaml"), base: "http://feeds.example.test"}
	var cfg strings.Builder
	// One source host: no spacing, and enough parallel requests that the
	// farm is the limit. The lease is as short as the timeouts allow, so
	// that the failover is quick.
	fmt.Fprintf(&cfg, "server:\n  listen: 127.0.0.1:1\n  base_url: %s\nstorage:\n  driver: postgres\n  dsn: %q\n  lease: 4s\n  poll: 500ms\nschedule: %s\nfetch:\n  min_gap: 0s\n  per_host: 4\n  concurrency: 4\n  timeout: 2s\n  full_text_budget: 1s\nsources:\n", c.base, dsn, schedule)
	for i := range f.counts {
		fmt.Fprintf(&cfg, "  - name: feed%03d\n    url: %s/feed/%d.xml\n", i, f.URL, i)
	}
	cfg.WriteString("feeds:\n  - name: all\n    sources: [\"*\"]\n    limit: 100\n")
	if err := os.WriteFile(c.config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for range n {
		c.ports = append(c.ports, freePort(t))
	}
	c.daemons = make([]*daemon, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { c.daemons[i] = c.start(t, i) })
	}
	wg.Wait()
	return c
}

// start starts instance i and waits until it answers.
func (c *cluster) start(t *testing.T, i int) *daemon {
	t.Helper()
	return startDaemonArgs(t, fmt.Sprintf("http://127.0.0.1:%d", c.ports[i]), "serve", "-config", c.config, "-listen", fmt.Sprintf("127.0.0.1:%d", c.ports[i]), "-log-level", "debug")
}

func (c *cluster) url(i int, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.ports[i], path)
}

// health reads instance i's /healthz.
func (c *cluster) health(t *testing.T, i int) (never, items int) {
	t.Helper()
	resp, err := http.Get(c.url(i, "/healthz"))
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
	var h struct {
		Never int `json:"never_fetched"`
		Items int `json:"items"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil {
		return -1, -1
	}
	return h.Never, h.Items
}

// sameFeeds waits until the given instances serve each published document
// with the same ETag and bytes, and at least want items in the store.
func (c *cluster) sameFeeds(t *testing.T, instances []int, wantItems int) {
	t.Helper()
	for _, doc := range []string{"/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json"} {
		var etags []string
		testkit.WaitFor(t, "every instance serves the same "+doc, func() bool {
			etags = etags[:0]
			var first []byte
			for k, i := range instances {
				if _, items := c.health(t, i); items < wantItems {
					return false
				}
				resp, err := http.Get(c.url(i, doc))
				if err != nil {
					return false
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					return false
				}
				etags = append(etags, resp.Header.Get("ETag"))
				if k == 0 {
					first = body
				} else if string(body) != string(first) || etags[k] != etags[0] {
					return false
				}
			}
			return true
		})
		t.Logf("%s: ETag %s on instances %v", doc, etags[0], instances)
	}
}

// TestClusterExactlyOnce runs three instances on one PostgreSQL store and a
// farm of 120 sources on a one-minute schedule: their passes at start
// fetch every source, exactly once, and the scheduled runs in the seconds
// after do not fetch any again (a run that falls just after a source's
// fetch at start is the run that fetch stood for). All three then serve
// the very same documents.
func TestClusterExactlyOnce(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	const sources = 120
	f := newFarm(t, sources)
	f.delay.Store(int64(20 * time.Millisecond))
	c := newCluster(t, f, 3, dsn, `"@every 1m"`)

	testkit.WaitFor(t, "every source fetched", func() bool {
		distinct, _ := f.fetched()
		return distinct == sources
	})
	// The scheduled runs that fall within half a minute of the pass at
	// start are the runs those fetches stood for: each instance finds
	// them not due and says so. Wait until a third of the sources' runs
	// have been judged at all three instances (events, not time), then
	// look for fetches that came too soon after another.
	testkit.WaitFor(t, "a third of the sources' scheduled runs judged by every instance", func() bool {
		judged := 0
		for _, d := range c.daemons {
			judged += strings.Count(d.stderr.String(), "scheduled run not due")
		}
		return judged >= len(c.daemons)*sources/3
	})
	for i, gap := range f.shortGaps(30*time.Second, time.Time{}) {
		t.Errorf("feed%03d fetched again %v after a fetch", i, gap.Round(time.Millisecond))
	}
	c.sameFeeds(t, []int{0, 1, 2}, sources*3)
	for i, d := range c.daemons {
		if never, _ := c.health(t, i); never != 0 {
			t.Errorf("instance %d: %d sources never fetched", i, never)
		}
		d.stop(t)
	}
}

// TestClusterFailover kills one of three instances in the middle of their
// first pass: the sources it held are fetched by the others once its leases
// expire, no source is fetched more than twice (only those it was fetching
// when it died), and after it is restarted all three serve the same
// documents. The schedule is yearly, so that no source starts a second
// cycle during the test.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	const sources = 200
	f := newFarm(t, sources)
	// 200 sources, 12 in flight, 150 ms each: a pass of about 2.5 s.
	f.delay.Store(int64(150 * time.Millisecond))
	c := newCluster(t, f, 3, dsn, `"0 0 1 1 *"`)

	testkit.WaitFor(t, "a third of the sources fetched", func() bool {
		distinct, _ := f.fetched()
		return distinct >= sources/3
	})
	killed := time.Now()
	if err := c.daemons[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.daemons[0].done
	c.daemons[0].done <- nil // for the cleanup

	// A source the killed instance had fetched but not yet recorded is
	// fetched again once its lease expires: wait until the others have
	// recorded every source. A source is recorded after its fetch, and
	// one the killed instance recorded had its lease ended in the same
	// transaction, so no fetch is left to come (events, not a quiet
	// period).
	testkit.WaitFor(t, "every source fetched and recorded", func() bool {
		distinct, _ := f.fetched()
		if distinct != sources {
			return false
		}
		for i := 1; i < 3; i++ {
			if never, _ := c.health(t, i); never != 0 {
				return false
			}
		}
		return true
	})
	twice := 0
	for i := range f.counts {
		switch n := f.counts[i].Load(); {
		case n == 2:
			twice++
		case n != 1:
			t.Errorf("feed%03d fetched %d times, want once (twice if the killed instance was fetching it)", i, n)
		}
	}
	// The killed instance had at most its workers' sources in flight:
	// refresh.Workers of its fetch concurrency, 4.
	if held := refresh.Workers(4); twice > held {
		t.Errorf("%d sources fetched twice; the killed instance could hold at most %d", twice, held)
	}
	done := time.Since(killed)
	t.Logf("after the kill: all sources fetched within %v (lease 4s); %d fetched twice", done.Round(100*time.Millisecond), twice)
	for i := 1; i < 3; i++ {
		if never, _ := c.health(t, i); never != 0 {
			t.Errorf("instance %d: %d sources never fetched", i, never)
		}
	}

	c.daemons[0] = c.start(t, 0)
	c.sameFeeds(t, []int{0, 1, 2}, sources*3)
	for _, d := range c.daemons {
		d.stop(t)
	}
}
