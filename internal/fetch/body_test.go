package fetch

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll: readAll reads everything whatever the size it was told,
// and a body of the announced size in one allocation.
func TestReadAll(t *testing.T) {
	body := strings.Repeat("feed bytes ", 1000)
	for _, tc := range []struct {
		name string
		size int64
	}{
		{"unknown", -1},
		{"zero", 0},
		{"exact", int64(len(body))},
		{"announced short", 10},
		{"announced long", int64(2 * len(body))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(body), iotest.OneByteReader(strings.NewReader(body)), iotest.DataErrReader(strings.NewReader(body))} {
				got, err := readAll(r, tc.size)
				if err != nil || string(got) != body {
					t.Fatalf("readAll = %d bytes, %v; want the %d bytes", len(got), err, len(body))
				}
			}
		})
	}
	r := strings.NewReader(body)
	if n := testing.AllocsPerRun(20, func() { r.Reset(body); readAll(r, int64(len(body))) }); n > 1 {
		t.Errorf("%v allocations for a body of the announced size, want 1", n)
	}
	failing := iotest.ErrReader(errors.New("boom"))
	if _, err := readAll(failing, 10); err == nil {
		t.Error("readAll hid a read error")
	}
}
