package main

import (
	"strings"
	"testing"
)

// BenchmarkIngest runs each mix through feedmill's ingest path, through
// gofeed's bare parse and through the sanitizing floor (gofeed and
// bluemonday); compare the sub-benchmarks of a mix, or run
// `go run ./bench/ingest` for the ratios.
func BenchmarkIngest(b *testing.B) {
	ms, err := mixes()
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range ms {
		name := strings.Fields(m.name)[0]
		if m.note != "" {
			b.Run(name, func(b *testing.B) { b.Skip(m.note) })
			continue
		}
		b.Run(name+"/feedmill", func(b *testing.B) { ingestFeedmill(b, m) })
		b.Run(name+"/gofeed", func(b *testing.B) { ingestGofeed(b, m) })
		b.Run(name+"/floor", func(b *testing.B) { ingestFloor(b, m) })
	}
}

// TestMixes checks that every mix holds documents both parsers accept, so
// that the benchmarks measure something; it does not time anything.
func TestMixes(t *testing.T) {
	ms, err := mixes()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.note != "" {
			t.Logf("%s: %s", m.name, m.note)
			continue
		}
		if len(m.docs) == 0 || m.items == 0 || m.bytes == 0 {
			t.Errorf("mix %s: %d docs, %d items, %d bytes; want some of each", m.name, len(m.docs), m.items, m.bytes)
		}
	}
}
