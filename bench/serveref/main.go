// Command serveref is the bare reference of bench/serve.sh: a net/http
// server that answers GET /feeds/FILE with bytes and headers computed once
// at start, choosing the gzip variant by Accept-Encoding and answering a
// matching If-None-Match with 304, and does nothing else. It is the limit
// of Go's HTTP stack for what feedmill's feed handler does, on an
// http.Server set up as feedmill's (server.HTTPServer).
//
// For each FILE it serves, -dir holds FILE (the body), FILE.gz (the gzip
// body), and FILE.hdr and FILE.gz.hdr: the response headers feedmill sent
// for them, as `curl -D` writes them. Every header of those dumps is sent
// again except the ones net/http computes itself (Date, Content-Length,
// Transfer-Encoding, Connection), so both servers send the same headers:
// with feedmill's production config that is Content-Type, ETag,
// Last-Modified, Vary, Cache-Control, X-Content-Type-Options, the WebSub
// hub and self Link lines and Content-Encoding; bench/serve.sh checks
// that the two answer every cell with the same fields.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/feedmill/feedmill/internal/server"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "serveref:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serveref", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory of FILE, FILE.gz, FILE.hdr, FILE.gz.hdr")
	listen := fs.String("listen", "127.0.0.1:18081", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required")
	}
	files, err := load(*dir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// feedmill's own server settings (timeouts), so that the ratio
	// measures what feedmill's handler and process add, not a difference
	// in how the two servers are configured.
	srv := server.HTTPServer(files, log.New(io.Discard, "", 0))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "serveref: serving %d files on %s\n", len(files), ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// variant is one coding of one file, ready to send.
type variant struct {
	header    []field // the 200's, Content-Length included
	notMod    []field // the 304's: the 200's minus what RFC 9110 leaves out
	etag      string
	body      []byte
	available bool
}

// field is one header field, assigned into a response's header map as is
// (no canonicalization, no allocation): the least a handler can do, so
// the reference is the floor feedmill is measured against.
type field struct {
	key   string
	value []string
}

// fields lists h's fields in a fixed order.
func fields(h http.Header) []field {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]field, len(keys))
	for i, k := range keys {
		out[i] = field{k, h[k]}
	}
	return out
}

type file struct{ plain, gzip variant }

// files maps a request path (/feeds/FILE) to its variants.
type files map[string]*file

func (fs files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := fs[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	v := &f.plain
	if f.gzip.available && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		v = &f.gzip
	}
	out := w.Header()
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == v.etag {
		for _, f := range v.notMod {
			out[f.key] = f.value
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	for _, f := range v.header {
		out[f.key] = f.value
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(v.body) //nolint:errcheck // a client that went away is not ours to report
	}
}

// load reads every FILE of dir that has a FILE.hdr beside it.
func load(dir string) (files, error) {
	hdrs, err := filepath.Glob(filepath.Join(dir, "*.hdr"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	fs := files{}
	for _, h := range hdrs {
		name := strings.TrimSuffix(filepath.Base(h), ".hdr")
		if strings.HasSuffix(name, ".gz") {
			continue
		}
		var f file
		if f.plain, err = loadVariant(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, name+".gz.hdr")); err == nil {
			if f.gzip, err = loadVariant(filepath.Join(dir, name+".gz")); err != nil {
				return nil, err
			}
		}
		fs["/feeds/"+name] = &f
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("no FILE.hdr in %s", dir)
	}
	return fs, nil
}

func loadVariant(path string) (variant, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return variant{}, fmt.Errorf("read body: %w", err)
	}
	dump, err := os.ReadFile(path + ".hdr")
	if err != nil {
		return variant{}, fmt.Errorf("read headers: %w", err)
	}
	h, err := parseDump(dump)
	if err != nil {
		return variant{}, fmt.Errorf("%s.hdr: %w", path, err)
	}
	for _, k := range []string{"Date", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"} {
		h.Del(k)
	}
	notMod := h.Clone()
	for _, k := range []string{"Content-Type", "Content-Encoding", "Last-Modified"} {
		notMod.Del(k)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return variant{header: fields(h), notMod: fields(notMod), etag: h.Get("ETag"), body: body, available: true}, nil
}

// parseDump reads the header block of a `curl -D` dump: a status line,
// then MIME headers.
func parseDump(dump []byte) (http.Header, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(dump)))
	status, err := r.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("status line: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/") {
		return nil, fmt.Errorf("not a header dump: %q", status)
	}
	mh, err := r.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("headers: %w", err)
	}
	return http.Header(mh), nil
}
