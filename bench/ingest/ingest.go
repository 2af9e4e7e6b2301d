// Command ingest measures feedmill's ingest path (fetch.ToUTF8 then
// normalize.Normalize: what every fetched body goes through) against
// gofeed's bare Parser.Parse of the same bytes, over a mix of feeds:
// the normalize package's fixtures, generated RSS, Atom and JSON Feed
// documents with short and long content, and the shared corpus of
// real-world files when it is present, and against the floor of any
// sanitizing path (gofeed's parse plus bluemonday over each item's HTML).
// It prints one Markdown table row per mix with MB/s, items/s, allocations
// per item, and the ratios of the times and allocations beside their
// targets, then the same over all mixes.
//
//	go run ./bench/ingest [-benchtime 1s] [-cpuprofile bench/out/ingest.cpu.prof]
//
// The same cases run as Go benchmarks: go test -run '^$' -bench . ./bench/ingest
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"

	"github.com/feedmill/feedmill/bench/internal/benchenv"
	"github.com/feedmill/feedmill/bench/internal/gen"
	"github.com/feedmill/feedmill/internal/feed"
	"github.com/feedmill/feedmill/internal/fetch"
	"github.com/feedmill/feedmill/internal/normalize"
)

// Target is the most feedmill's ingest path may take, as a multiple of
// gofeed's bare parse of the same bytes. No path that sanitizes HTML can
// meet it on feeds of long articles (see docs/PERFORMANCE.md): the targets
// that judge feedmill's own work are FloorTarget and AllocTarget.
const Target = 1.5

// FloorTarget is the most feedmill's ingest path may take as a multiple of
// the floor of any sanitizing path (ingestFloor), summed over all mixes;
// AllocTarget is the most it may allocate, per item, as a multiple of
// that floor.
const (
	FloorTarget = 1.2
	AllocTarget = 2.0
)

// now is the clock given to Normalize: after every generated date, so none
// is treated as being in the future.
var now = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// doc is one feed body as it would arrive from a server.
type doc struct {
	name        string
	body        []byte
	contentType string
	url         string
}

// mix is a set of documents measured together: one benchmark operation
// ingests each of them once.
type mix struct {
	name  string
	docs  []doc
	bytes int64
	items int // items feedmill's path yields per operation
	// skipped counts documents left out because feedmill or gofeed
	// refused them: the two must do the same work to be compared.
	skipped int
	note    string
}

// mixes returns the benchmark mixes. The corpus mix is missing, with a
// message in its place, when ../shared/corpus is absent.
func mixes() ([]mix, error) {
	root, err := benchenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	var out []mix

	var fixtures []doc
	dir := filepath.Join(root, "internal", "normalize", "testdata")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read fixtures: %w", err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); e.IsDir() || (ext != ".xml" && ext != ".json") || strings.Contains(e.Name(), ".golden.") {
			continue
		}
		d, err := readDoc(filepath.Join(dir, e.Name()), e.Name())
		if err != nil {
			return nil, err
		}
		fixtures = append(fixtures, d)
	}
	out = append(out, newMix("fixtures", fixtures))

	var short []doc
	for i := range 10 {
		base := fmt.Sprintf("https://short%d.example.org", i)
		short = append(short, doc{name: base, body: gen.RSS("Short "+base, base, gen.Entries(base, i*50, 50, false)),
			contentType: "application/rss+xml", url: base + "/feed.xml"})
	}
	out = append(out, newMix("rss-short (10×50 items)", short))
	base := "https://long.example.org"
	long := gen.Entries(base, 0, 50, true)
	out = append(out,
		newMix("rss-long (50 items, 4 KB HTML)", []doc{{name: "rss", body: gen.RSS("Long", base, long), contentType: "application/rss+xml", url: base + "/feed.xml"}}),
		newMix("atom-long (50 items, 4 KB HTML)", []doc{{name: "atom", body: gen.Atom("Long", base, long), contentType: "application/atom+xml", url: base + "/atom.xml"}}),
		newMix("json-long (50 items, 4 KB HTML)", []doc{{name: "json", body: gen.JSONFeed("Long", base, long), contentType: "application/feed+json", url: base + "/feed.json"}}),
	)

	corpus := benchenv.CorpusDir()
	if corpus == "" {
		out = append(out, mix{name: "corpus", note: "skipped: ../shared/corpus not found"})
		return out, nil
	}
	var real []doc
	err = filepath.WalkDir(corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := filepath.Ext(path)
		if d.IsDir() || (ext != ".xml" && ext != ".json" && ext != ".rss" && ext != ".atom" && ext != ".rdf") {
			return nil
		}
		rel, _ := filepath.Rel(corpus, path)
		doc, err := readDoc(path, rel)
		if err != nil {
			return err
		}
		real = append(real, doc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	out = append(out, newMix("corpus (real-world files)", real))
	return out, nil
}

func readDoc(path, name string) (doc, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return doc{}, fmt.Errorf("read %s: %w", path, err)
	}
	ct := "application/xml"
	if filepath.Ext(path) == ".json" {
		ct = "application/feed+json"
	}
	return doc{name: name, body: body, contentType: ct, url: "https://corpus.example.org/" + filepath.ToSlash(name)}, nil
}

// newMix keeps the documents both feedmill and gofeed accept, and counts
// the items and bytes of one pass.
func newMix(name string, docs []doc) mix {
	m := mix{name: name}
	n := normalize.New(normalize.Options{})
	p := gofeed.NewParser()
	for _, d := range docs {
		f, err := n.Normalize(source, fetch.ToUTF8(d.body, d.contentType), d.url, now)
		if _, perr := p.Parse(bytes.NewReader(d.body)); err != nil || perr != nil {
			m.skipped++
			continue
		}
		m.docs = append(m.docs, d)
		m.bytes += int64(len(d.body))
		m.items += len(f.Items)
	}
	return m
}

var source = feed.Source{Name: "bench", URL: "https://bench.example.org/feed"}

// ingestFeedmill is one benchmark of feedmill's ingest path over m.
func ingestFeedmill(b *testing.B, m mix) {
	pass := feedmillPass(m)
	b.ReportAllocs()
	b.SetBytes(m.bytes)
	for b.Loop() {
		if err := pass(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// feedmillPass returns one pass of feedmill's ingest path over m.
func feedmillPass(m mix) func() error {
	n := normalize.New(normalize.Options{})
	return func() error {
		for _, d := range m.docs {
			if _, err := n.Normalize(source, fetch.ToUTF8(d.body, d.contentType), d.url, now); err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
		}
		return nil
	}
}

// floorPass returns one pass of the floor (see ingestFloor) over m.
func floorPass(m mix) func() error {
	p := gofeed.NewParser()
	policy := bluemonday.UGCPolicy()
	return func() error {
		for _, d := range m.docs {
			f, err := p.Parse(bytes.NewReader(d.body))
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			for _, it := range f.Items {
				policy.Sanitize(it.Description)
				policy.Sanitize(it.Content)
			}
		}
		return nil
	}
}

// cpuRounds is how many alternating rounds cpuRatio measures each path in.
const cpuRounds = 3

// cpuRatio measures the CPU time (user and system, every thread: the
// garbage collector's work included) a pass of a and of b costs, in
// cpuRounds alternating rounds of about d/cpuRounds each, and returns the
// ratio of the cheapest round of each. On a machine other programs load,
// CPU time stays close to what the work costs while wall time does not,
// and alternating rounds spread what load remains over both paths.
func cpuRatio(a, b func() error, d time.Duration) (float64, error) {
	bestA, bestB := time.Duration(1<<62), time.Duration(1<<62)
	for range cpuRounds {
		ta, err := cpuPerPass(a, d/cpuRounds)
		if err != nil {
			return 0, err
		}
		tb, err := cpuPerPass(b, d/cpuRounds)
		if err != nil {
			return 0, err
		}
		bestA, bestB = min(bestA, ta), min(bestB, tb)
	}
	return float64(bestA) / float64(bestB), nil
}

// cpuPerPass runs pass for about d of wall time, after one run to warm
// up, and returns the CPU time per run.
func cpuPerPass(pass func() error, d time.Duration) (time.Duration, error) {
	if err := pass(); err != nil {
		return 0, err
	}
	runtime.GC()
	start, cpu := time.Now(), benchenv.CPUTime()
	runs := 0
	for runs == 0 || time.Since(start) < d {
		if err := pass(); err != nil {
			return 0, err
		}
		runs++
	}
	return (benchenv.CPUTime() - cpu) / time.Duration(runs), nil
}

// ingestFloor is one benchmark of the least an aggregator that republishes
// HTML can do: gofeed's parse and bluemonday's UGC policy over each item's
// description and content, and nothing else (no URL resolution, no ids,
// no summaries). It tells how much of the ratio any sanitizing path pays.
func ingestFloor(b *testing.B, m mix) {
	pass := floorPass(m)
	b.ReportAllocs()
	b.SetBytes(m.bytes)
	for b.Loop() {
		if err := pass(); err != nil {
			b.Fatal(err)
		}
	}
}

// ingestGofeed is one benchmark of gofeed's bare parse over m: one parser,
// as a careful user of gofeed would keep.
func ingestGofeed(b *testing.B, m mix) {
	p := gofeed.NewParser()
	b.ReportAllocs()
	b.SetBytes(m.bytes)
	for b.Loop() {
		for _, d := range m.docs {
			if _, err := p.Parse(bytes.NewReader(d.body)); err != nil {
				b.Fatalf("%s: %v", d.name, err)
			}
		}
	}
	b.ReportMetric(float64(m.items)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func main() {
	testing.Init()
	benchtime := flag.Duration("benchtime", time.Second, "how long each measurement runs")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of feedmill's ingest of every mix to this file")
	flag.Parse()
	if err := run(*benchtime, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(benchtime time.Duration, cpuprofile string) error {
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		return fmt.Errorf("set benchtime: %w", err)
	}
	ms, err := mixes()
	if err != nil {
		return err
	}
	fmt.Printf("Machine: %s\n\n", benchenv.Machine())
	fmt.Printf("| mix | docs | KB/pass | items/pass | feedmill MB/s | feedmill items/s | feedmill allocs/item | floor allocs/item | allocs vs floor (target ≤ %.0f×) | gofeed MB/s | gofeed allocs/item | ratio to gofeed (target ≤ %.1f×) | floor / gofeed | ratio to floor (target ≤ %.1f×) | CPU time to floor |\n", AllocTarget, Target, FloorTarget)
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---|---:|")
	var sumF, sumG, sumS float64
	var cpuF, cpuS float64 // CPU-time ratios weighted by the floor's time
	var allocsF, allocsS, items int64
	worst, worstFloor := 0.0, 0.0
	for _, m := range ms {
		if m.note != "" {
			fmt.Printf("| %s | | | | | | | | | | | %s | | | |\n", m.name, m.note)
			continue
		}
		f := testing.Benchmark(func(b *testing.B) { ingestFeedmill(b, m) })
		g := testing.Benchmark(func(b *testing.B) { ingestGofeed(b, m) })
		fl := testing.Benchmark(func(b *testing.B) { ingestFloor(b, m) })
		if f.N == 0 || g.N == 0 || fl.N == 0 {
			return fmt.Errorf("mix %s: a benchmark failed", m.name)
		}
		cpu, err := cpuRatio(feedmillPass(m), floorPass(m), benchtime)
		if err != nil {
			return fmt.Errorf("mix %s: %w", m.name, err)
		}
		cpuF, cpuS = cpuF+cpu*float64(fl.NsPerOp()), cpuS+float64(fl.NsPerOp())
		ratio := float64(f.NsPerOp()) / float64(g.NsPerOp())
		toFloor := float64(f.NsPerOp()) / float64(fl.NsPerOp())
		worst, worstFloor = max(worst, ratio), max(worstFloor, toFloor)
		sumF += float64(f.NsPerOp())
		sumG += float64(g.NsPerOp())
		sumS += float64(fl.NsPerOp())
		allocsF += f.AllocsPerOp()
		allocsS += fl.AllocsPerOp()
		items += int64(m.items)
		perItem := func(r testing.BenchmarkResult) float64 { return float64(r.AllocsPerOp()) / float64(m.items) }
		allocRatio := float64(f.AllocsPerOp()) / float64(fl.AllocsPerOp())
		name := m.name
		if m.skipped > 0 {
			name += fmt.Sprintf(" (%d refused by either, left out)", m.skipped)
		}
		fmt.Printf("| %s | %d | %.0f | %d | %.1f | %.0f | %.0f | %.0f | %.2f× %s | %.1f | %.0f | %.2f× %s | %.2f× | %.2f× %s | %.2f× |\n",
			name, len(m.docs), float64(m.bytes)/1024, m.items,
			mbps(m.bytes, f), f.Extra["items/s"], perItem(f), perItem(fl), allocRatio, verdictFor(allocRatio, AllocTarget),
			mbps(m.bytes, g), perItem(g), ratio, verdict(ratio), float64(fl.NsPerOp())/float64(g.NsPerOp()),
			toFloor, verdictFor(toFloor, FloorTarget), cpu)
	}
	total, totalFloor := sumF/sumG, sumF/sumS
	allocTotal := float64(allocsF) / float64(allocsS)
	fmt.Printf("\nAll mixes together (sum of times): %.2f× gofeed's bare parse, target ≤ %.1f× %s; worst mix %.2f×.\n", total, Target, verdict(total), worst)
	fmt.Printf("The floor of any sanitizing path (gofeed's parse + bluemonday over each item's HTML, nothing else): %.2f× gofeed's bare parse.\n", sumS/sumG)
	fmt.Printf("feedmill against that floor, all mixes (sum of times): **%.2f×**, target ≤ %.1f× %s; worst mix %.2f×.\n", totalFloor, FloorTarget, verdictFor(totalFloor, FloorTarget), worstFloor)
	fmt.Printf("The same in CPU time (alternating rounds, the cheapest of each; steadier on a loaded machine): **%.2f×**.\n", cpuF/cpuS)
	fmt.Printf("Allocations per item, all mixes: feedmill %.0f, floor %.0f: **%.2f×**, target ≤ %.0f× %s.\n",
		float64(allocsF)/float64(items), float64(allocsS)/float64(items), allocTotal, AllocTarget, verdictFor(allocTotal, AllocTarget))

	if cpuprofile != "" {
		if err := profile(cpuprofile, ms, benchtime); err != nil {
			return err
		}
		fmt.Printf("CPU profile of feedmill's ingest: %s (go tool pprof -top %s)\n", cpuprofile, cpuprofile)
	}
	return nil
}

// profile ingests every mix with feedmill for about d under the CPU
// profiler.
func profile(path string, ms []mix, d time.Duration) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("profile dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("start profile: %w", err)
	}
	n := normalize.New(normalize.Options{})
	for start := time.Now(); time.Since(start) < d; {
		for _, m := range ms {
			for _, doc := range m.docs {
				if _, err := n.Normalize(source, fetch.ToUTF8(doc.body, doc.contentType), doc.url, now); err != nil {
					pprof.StopCPUProfile()
					f.Close()
					return fmt.Errorf("%s: %w", doc.name, err)
				}
			}
		}
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	return nil
}

func mbps(n int64, r testing.BenchmarkResult) float64 {
	return float64(n) * float64(r.N) / r.T.Seconds() / 1e6
}

func verdict(ratio float64) string { return verdictFor(ratio, Target) }

func verdictFor(ratio, target float64) string {
	if ratio <= target {
		return "met"
	}
	return "**missed**"
}
