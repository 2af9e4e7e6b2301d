package fetch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// gzipMagic starts every gzip member (ID1, ID2, CM=deflate).
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// readBody reads resp's body, undoing a gzip Content-Encoding, and fails with
// ErrTooLarge as soon as more than max bytes arrive, before or after
// decompression. It also undoes one layer of gzip the headers do not
// announce (servers that serve a .gz file as is, or compress an already
// compressed file, are common, and no feed starts with the gzip magic), and
// reads a body announced as gzip but sent plain as it is.
func readBody(resp *http.Response, max int64) ([]byte, error) {
	gzipped, err := isGzipEncoded(resp.Header.Values("Content-Encoding"))
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > max {
		return nil, tooLarge(max)
	}

	wire := bufio.NewReader(&capReader{r: resp.Body, left: max})
	var r io.Reader = wire
	size := resp.ContentLength // what the body will take, when known
	if gzipped {
		// Some servers announce gzip for a body they did not compress;
		// reading it as it is beats failing on a perfectly readable feed.
		if magic, _ := wire.Peek(len(gzipMagic)); bytes.Equal(magic, gzipMagic) {
			zr, err := gzip.NewReader(wire)
			if err != nil {
				return nil, mapReadError("decompress gzip body", err, max)
			}
			defer zr.Close()
			r = &capReader{r: zr, left: max}
			size = min(4*size, max) // a feed compresses about fourfold
		}
	}
	body, err := readAll(r, size)
	if err != nil {
		// gzip's own errors name themselves ("gzip: invalid checksum").
		return nil, mapReadError("read body", err, max)
	}

	if bytes.HasPrefix(body, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, mapReadError("decompress unannounced gzip body", err, max)
		}
		defer zr.Close()
		body, err = io.ReadAll(&capReader{r: zr, left: max})
		if err != nil {
			return nil, mapReadError("decompress unannounced gzip body", err, max)
		}
	}
	return body, nil
}

// readAll is io.ReadAll into a buffer of size bytes to begin with (none
// when size is not positive), so that a body of a known length is read
// without the copies of a growing buffer.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1) // room to see the end without growing
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than announced: grow as append does
		}
	}
}

// isGzipEncoded reports whether the Content-Encoding values ask for gzip
// decoding. Only gzip is requested, so any other coding is an error rather
// than bytes handed to a parser that cannot read them.
func isGzipEncoded(values []string) (bool, error) {
	gzipped := false
	for _, v := range values {
		for coding := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "", "identity":
			case "gzip", "x-gzip":
				if gzipped {
					return false, errors.New("unsupported content encoding: gzip applied twice")
				}
				gzipped = true
			default:
				return false, fmt.Errorf("unsupported content encoding %q", strings.TrimSpace(coding))
			}
		}
	}
	return gzipped, nil
}

func tooLarge(max int64) error {
	return fmt.Errorf("%w (limit %d bytes)", ErrTooLarge, max)
}

// mapReadError names the step that failed, and turns the bare ErrTooLarge of
// a capReader into one that states the limit.
func mapReadError(step string, err error, max int64) error {
	if errors.Is(err, ErrTooLarge) {
		return tooLarge(max)
	}
	return fmt.Errorf("%s: %w", step, err)
}

// capReader passes through at most left bytes of r and fails with
// ErrTooLarge when r has more, instead of ending early as io.LimitReader
// does: a truncated feed must never look like a complete one.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	// Ask for one byte more than allowed, so that exceeding is noticed
	// without a separate probe.
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		n = int(c.left)
		c.left = 0
		return n, ErrTooLarge
	}
	c.left -= int64(n)
	return n, err
}

// drain reads a little of an unwanted body so that the connection can go
// back to the pool; a large error page is not worth reading to the end.
func drain(body io.Reader) {
	// The copy's error is irrelevant: at worst the connection is not reused.
	_, _ = io.CopyN(io.Discard, body, 4<<10)
}
