package websub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedmill/feedmill/internal/store"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2024, time.May, 1, 12, 0, 0, 0, time.UTC)

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "feedmill.db"))
}

func openStoreAt(t *testing.T, path string) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// run starts fn (a Run method) and stops it when the test ends, failing the
// test if it does not return promptly. The returned
// function stops it earlier.
func run(t *testing.T, fn func(context.Context)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fn(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second): // a safety net
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// hmacHex is the expected X-Hub-Signature, computed independently of sign.
func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// received is one request a fake callback or hub got.
type received struct {
	Method string
	Query  url.Values
	Form   url.Values
	Header http.Header
	Body   []byte
}

// callbackServer is a fake WebSub subscriber: it answers verifications as
// told by verify and content POSTs with the statuses in order (the last one
// repeats), and records everything.
type callbackServer struct {
	*httptest.Server
	mu       sync.Mutex
	verify   func(q url.Values) (int, string)
	statuses []int
	gets     []received
	posts    []received
}

// echo is the verify behaviour of a willing subscriber.
func echo(q url.Values) (int, string) { return http.StatusOK, q.Get("hub.challenge") }

func newCallback(t *testing.T, verify func(url.Values) (int, string), statuses ...int) *callbackServer {
	t.Helper()
	c := &callbackServer{verify: verify, statuses: statuses}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *callbackServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{Method: r.Method, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		c.gets = append(c.gets, rec)
		status, answer := http.StatusOK, ""
		if c.verify != nil && rec.Query.Get("hub.mode") != "denied" {
			status, answer = c.verify(rec.Query)
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	case http.MethodPost:
		c.posts = append(c.posts, rec)
		status := http.StatusNoContent
		if len(c.statuses) > 0 {
			status = c.statuses[min(len(c.posts), len(c.statuses))-1]
		}
		w.WriteHeader(status)
	}
}

func (c *callbackServer) Gets() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]received(nil), c.gets...)
}

func (c *callbackServer) Posts() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]received(nil), c.posts...)
}

// hubServer is a fake external hub recording the forms posted to it.
type hubServer struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	forms  []url.Values
}

func newHubServer(t *testing.T, status int) *hubServer {
	t.Helper()
	h := &hubServer{status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), formType) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.forms = append(h.forms, r.PostForm)
		status := h.status
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hubServer) Forms() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]url.Values(nil), h.forms...)
}

func (h *hubServer) SetStatus(status int) {
	h.mu.Lock()
	h.status = status
	h.mu.Unlock()
}
