package refresh

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/scrape"
	"github.com/feedmill/feedmill/internal/store"
	"github.com/feedmill/feedmill/internal/testkit"
)

// TestMain makes sure no test request can leave the machine through a
// proxy named in the environment: every test server listens on 127.0.0.1,
// and a host name that must fail to resolve would otherwise be handed to
// the proxy.
func TestMain(m *testing.M) {
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"} {
		os.Unsetenv(v)
	}
	os.Setenv("NO_PROXY", "*")
	os.Exit(m.Run())
}

// noDNS is a resolver that fails every lookup without sending a packet.
func noDNS() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, errors.New("no DNS in tests")
		},
	}
}

// faultCase is one source of the fault matrix: how its server behaves and
// what must come of it.
type faultCase struct {
	name    string
	handler http.HandlerFunc // nil when url is given
	url     string           // a URL with no server behind it
	// wantErr are the words the source's last error must hold; none
	// means the refresh must succeed.
	wantErr []string
	// check inspects the stored items of a source that succeeded.
	check func(t *testing.T, items []feed.Item)
	// orErr, for a best-effort case, are the words an error must hold
	// if the source fails rather than gives what it can.
	orErr []string
	// timesOut marks the cases whose server never finishes: only they are
	// fetched with the short timeout the case proves. Every other case
	// gets a timeout that is only a safety net, so that a busy machine
	// cannot turn "too large" or "parsed" into "timed out".
	timesOut bool
}

// byURL fetches each URL with the client named for it, else with def.
type byURL struct {
	def fetcher
	by  map[string]fetcher
}

func (b byURL) pick(url string) fetcher {
	if f, ok := b.by[url]; ok {
		return f
	}
	return b.def
}

func (b byURL) Fetch(ctx context.Context, url string, v feed.Validators) (*fetch.Response, error) {
	return b.pick(url).Fetch(ctx, url, v)
}

func (b byURL) FetchPage(ctx context.Context, url string, trustedHost string) (*fetch.Response, error) {
	return b.pick(url).FetchPage(ctx, url, trustedHost)
}

func encoded(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serveBytes(contentType string, body []byte, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}

func titled(title string) func(t *testing.T, items []feed.Item) {
	return func(t *testing.T, items []feed.Item) {
		t.Helper()
		if len(items) != 1 || items[0].Title != title {
			var got []string
			for _, it := range items {
				got = append(got, it.Title)
			}
			t.Errorf("titles %q, want [%q]", got, title)
		}
	}
}

func counted(n int) func(t *testing.T, items []feed.Item) {
	return func(t *testing.T, items []feed.Item) {
		t.Helper()
		if len(items) != n {
			t.Errorf("%d items stored, want %d", len(items), n)
		}
	}
}

func bigFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><link>https://big.example/</link><description>d</description>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Item %d</title><link>https://big.example/%d</link><pubDate>%s</pubDate></item>`,
			i, i, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

func gzipBomb(t *testing.T, size int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range size >> 20 {
		zw.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFaultMatrix refreshes a third of misbehaving sources among good ones
// and checks that every good source is stored, every bad one's state says
// exactly what went wrong (the servers that never finish: our timeout), and
// neither goroutines nor memory are left behind.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs slow servers")
	}
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "feedmill.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	runtime.GC()
	baseGoroutines := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// timeout is what the servers that never finish prove; it leaves the
	// trickle's headers ample time to arrive on a busy machine, so that its
	// error is about the body. safetyNet bounds every other fetch only in
	// case something hangs.
	const timeout = 3 * time.Second
	const safetyNet = 2 * time.Minute
	const maxBody = 4 << 20

	// A listener that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	var heldMu sync.Mutex
	var heldConns []net.Conn
	held.Go(func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			heldConns = append(heldConns, c)
			heldMu.Unlock()
		}
	})
	// A port with nothing listening, held for the whole test (see
	// testkit.RefusedAddr).
	refusedURL := "http://" + testkit.RefusedAddr(t) + "/feed"

	good := func(title string) http.HandlerFunc {
		return serveBytes("application/rss+xml", []byte(rssWith(title+" one", title+" two")))
	}
	cyrillic := "Новости дня: всё хорошо"
	cases := []faultCase{
		{name: "good-1", handler: good("a"), check: counted(2)},
		{name: "good-2", handler: good("b"), check: counted(2)},
		{name: "good-3", handler: good("c"), check: counted(2)},
		{name: "good-atom", handler: serveBytes("application/atom+xml", []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2025-01-01T00:00:00Z</updated>
<entry><title>Atom entry</title><id>urn:a:1</id><link href="https://a.example/1"/><updated>2025-01-01T00:00:00Z</updated></entry></feed>`)), check: titled("Atom entry")},
		{name: "good-json", handler: serveBytes("application/feed+json", []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://j.example/1","title":"JSON item","content_text":"x"}]}`)), check: titled("JSON item")},

		{name: "refused", url: refusedURL, wantErr: []string{"connection refused"}},
		{name: "dns", url: "http://feed.invalid/rss", wantErr: []string{"lookup feed.invalid", "no DNS in tests"}},
		{name: "silent", url: "http://" + silent.Addr().String() + "/feed", timesOut: true, wantErr: []string{"timed out after 3s"}},
		{name: "trickle", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.WriteHeader(http.StatusOK)
			for {
				if _, err := w.Write([]byte("<")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(time.Second):
				}
			}
		}, timesOut: true, wantErr: []string{"timed out after 3s", "read body"}},
		{name: "500", handler: serveStatus(http.StatusInternalServerError), wantErr: []string{"HTTP 500 Internal Server Error"}},
		{name: "429", handler: serveStatus(http.StatusTooManyRequests, "Retry-After", "120"), wantErr: []string{"HTTP 429 Too Many Requests", "retry after 2m0s"}},
		{name: "redirect-loop", handler: func(w http.ResponseWriter, r *http.Request) {
			to := "/a"
			if r.URL.Path == "/a" {
				to = "/b"
			}
			http.Redirect(w, r, to, http.StatusFound)
		}, wantErr: []string{"redirect"}},
		{name: "over-the-cap", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			chunk := bytes.Repeat([]byte("<!-- padding -->"), 4096)
			for sent := 0; sent < 4*maxBody; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, wantErr: []string{fetch.ErrTooLarge.Error()}},
		{name: "gzip-bomb", handler: serveBytes("application/rss+xml", gzipBomb(t, 4*maxBody), "Content-Encoding", "gzip"), wantErr: []string{fetch.ErrTooLarge.Error()}},
		{name: "empty", handler: serveBytes("application/rss+xml", nil), wantErr: []string{"empty response body"}},
		{name: "html", handler: serveBytes("text/html", []byte(`<!doctype html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>`)),
			wantErr: []string{"is a web page that advertises no feed"}},
		{name: "truncated", handler: serveBytes("application/rss+xml", []byte(rssWith("a", "b")[:180])), wantErr: []string{"parse truncated"}},

		// Bytes that are not what they claim: the items that can be read,
		// or an error that says why none could.
		{name: "invalid-utf8", handler: serveBytes("application/rss+xml; charset=utf-8",
			[]byte("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>T</title><item><title>caf\xe9 \xff</title><guid>1</guid></item></channel></rss>")),
			check: counted(1), orErr: []string{"parse invalid-utf8", "invalid UTF-8"}},
		{name: "wrong-charset", handler: serveBytes("application/rss+xml; charset=utf-8",
			encoded(t, charmap.Windows1251, `<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>T</title><item><title>`+cyrillic+`</title><guid>1</guid></item></channel></rss>`)),
			check: counted(1), orErr: []string{"parse wrong-charset", "invalid UTF-8"}},

		// Non-UTF-8 feeds, declared in the prolog or the header, come out
		// as the right text.
		{name: "windows-1251-prolog", handler: serveBytes("application/rss+xml",
			encoded(t, charmap.Windows1251, `<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>T</title><item><title>`+cyrillic+`</title><guid>1</guid></item></channel></rss>`)),
			check: titled(cyrillic)},
		{name: "koi8-r-header", handler: serveBytes("application/rss+xml; charset=KOI8-R",
			encoded(t, charmap.KOI8R, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>`+cyrillic+`</title><guid>1</guid></item></channel></rss>`)),
			check: titled(cyrillic)},
		{name: "iso-8859-1-prolog", handler: serveBytes("text/xml",
			encoded(t, charmap.ISO8859_1, `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>T</title><item><title>Café à la crème, naïve façade</title><guid>1</guid></item></channel></rss>`)),
			check: titled("Café à la crème, naïve façade")},
		{name: "shift-jis-header", handler: serveBytes("application/xml; charset=Shift_JIS",
			encoded(t, japanese.ShiftJIS, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>今日のニュース：東京は晴れ</title><guid>1</guid></item></channel></rss>`)),
			check: titled("今日のニュース：東京は晴れ")},

		// Odd but valid feeds.
		{name: "10000-items", handler: serveBytes("application/rss+xml", bigFeed(10000)), check: counted(feed.DefaultRetention)},
		{name: "no-id-link-date", handler: serveBytes("application/rss+xml", []byte(`<rss version="2.0"><channel><title>T</title>
<item><title>Only a title</title></item><item><description>Only a description</description></item><item><title>Another title</title></item></channel></rss>`)),
			check: counted(3)},
		{name: "odd-dates", handler: serveBytes("application/rss+xml", []byte(`<rss version="2.0"><channel><title>T</title>
<item><title>Future</title><guid>f</guid><pubDate>Sat, 01 Jan 2101 00:00:00 GMT</pubDate></item>
<item><title>Epoch</title><guid>e</guid><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item></channel></rss>`)),
			check: func(t *testing.T, items []feed.Item) {
				for _, it := range items {
					if it.Date().After(time.Now().Add(48 * time.Hour)) {
						t.Errorf("item %q is dated %v, in the future", it.ID, it.Date())
					}
				}
				counted(2)(t, items)
			}},
		{name: "duplicate-ids", handler: serveBytes("application/rss+xml", []byte(`<rss version="2.0"><channel><title>T</title>
<item><title>First</title><guid>same</guid></item><item><title>Second</title><guid>same</guid></item><item><title>Third</title><guid>other</guid></item></channel></rss>`)),
			check: counted(2)},
	}

	var servers []*httptest.Server
	var sources []feed.Source
	for _, c := range cases {
		u := c.url
		if c.handler != nil {
			srv := httptest.NewServer(c.handler)
			servers = append(servers, srv)
			u = srv.URL + "/feed"
		}
		sources = append(sources, feed.Source{Name: c.name, URL: u, Schedule: "*/15 * * * *"})
	}
	clientWith := func(timeout time.Duration) *fetch.Client {
		return fetch.New(fetch.Options{
			Version: "test", Timeout: timeout, MaxBody: maxBody, MinGap: -1,
			Concurrency: len(cases), PerHost: len(cases), Resolver: noDNS(),
		})
	}
	client, short := clientWith(safetyNet), clientWith(timeout)
	fetcher := byURL{def: client, by: map[string]fetcher{}}
	for i, c := range cases {
		if c.timesOut {
			fetcher.by[sources[i].URL] = short
		}
	}
	r, err := New(sources, fetcher, scrape.New(normalize.New(normalize.Options{}), nil), st, Options{Workers: len(cases)})
	if err != nil {
		t.Fatal(err)
	}

	// The peak heap while the refresh runs, sampled.
	var peak uint64
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	results := r.RefreshAll(ctx, false)
	close(stopSampling)
	<-sampled
	if grown := int64(peak) - int64(before.HeapAlloc); grown > 200<<20 {
		t.Errorf("the heap grew by %d MiB during the refresh", grown>>20)
	}
	if len(results) != len(cases) {
		t.Fatalf("%d results for %d sources", len(results), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := results[i]
			state, err := st.State(ctx, c.name)
			if err != nil {
				t.Fatal(err)
			}
			items, err := st.Items(ctx, feed.Query{Sources: []string{c.name}})
			if err != nil {
				t.Fatal(err)
			}
			wantErr := c.wantErr
			if res.Err != nil && c.orErr != nil {
				wantErr = c.orErr
			}
			if len(wantErr) > 0 {
				if res.Err == nil || state.Failures != 1 || len(items) != 0 {
					t.Errorf("result %+v, failures %d, %d items: want an error, one failure, no items", res, state.Failures, len(items))
				}
				for _, w := range wantErr {
					if !strings.Contains(state.LastError, w) {
						t.Errorf("last error %q does not say %q", state.LastError, w)
					}
				}
				return
			}
			if res.Err != nil || state.LastError != "" || state.Failures != 0 {
				t.Fatalf("result %+v, last error %q: want success", res, state.LastError)
			}
			for _, it := range items {
				if !utf8.ValidString(it.Title) || !utf8.ValidString(it.Content) {
					t.Errorf("item %q holds invalid UTF-8", it.ID)
				}
			}
			if c.check != nil {
				c.check(t, items)
			}
		})
	}

	// Everything the refresh started ends with the servers.
	silent.Close()
	heldMu.Lock()
	for _, c := range heldConns {
		c.Close()
	}
	heldMu.Unlock()
	held.Wait()
	for _, srv := range servers {
		srv.CloseClientConnections()
		srv.Close()
	}
	client.CloseIdleConnections()
	short.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second) // a safety net: they end at once
	for runtime.NumGoroutine() > baseGoroutines && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseGoroutines {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after the refresh, %d before:\n%s", n, baseGoroutines, buf)
	}

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
		t.Errorf("the heap grew by %d MiB", grown>>20)
	}
	t.Logf("refresh of %d sources: heap %d -> %d MiB (peak %d MiB); goroutines %d -> %d",
		len(cases), before.HeapAlloc>>20, after.HeapAlloc>>20, peak>>20, baseGoroutines, runtime.NumGoroutine())
}
