package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// The pages' stylesheet and script are part of the binary: a status page
// must not depend on a CDN, and must look the same offline.
//
//go:embed assets/status.css assets/status.js
var assetFS embed.FS

// asset is one embedded file as served: its name carries a hash of its
// content, so it can be cached for ever and a new build's is fetched anew.
type asset struct {
	name        string // e.g. status.1a2b3c4d5e6f.css
	contentType string
	etag        string
	body, gzip  []byte
}

type assetSet struct {
	css, js asset
	byName  map[string]*asset
}

// pageAssets loads the embedded assets once; they never change while the
// program runs.
var pageAssets = sync.OnceValue(func() *assetSet {
	set := &assetSet{
		css: loadAsset("assets/status.css", "text/css; charset=utf-8"),
		js:  loadAsset("assets/status.js", "text/javascript; charset=utf-8"),
	}
	set.byName = map[string]*asset{set.css.name: &set.css, set.js.name: &set.js}
	return set
})

func loadAsset(file, contentType string) asset {
	body, err := assetFS.ReadFile(file)
	if err != nil {
		panic("server: embedded asset missing: " + err.Error()) // a build error
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:6])
	base := path.Base(file)
	ext := path.Ext(base)
	a := asset{
		name:        strings.TrimSuffix(base, ext) + "." + hash + ext,
		contentType: contentType,
		etag:        `"` + hash + `"`,
		body:        body,
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	if gz.Len() < len(body) {
		a.gzip = gz.Bytes()
	}
	return a
}

// serveAsset serves GET /assets/{file}. Only the current names exist: a
// page of an older build asks for another hash, and gets a 404 rather than
// a file that does not match it.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := pageAssets().byName[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Etag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	if etagListHas(r.Header.Get("If-None-Match"), a.etag, gzipETag(a.etag)) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gzip != nil && acceptsGzip(r) {
		body = a.gzip
		h.Set("Content-Encoding", "gzip")
		h.Set("Etag", gzipETag(a.etag))
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body) // an error here is the client going away
	}
}
