package server

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/feedmill/feedmill/internal/feed"
)

var screenshotDocs = flag.Bool("screenshot-docs", false, "also write the phone screenshot of the status page to docs/status-page.png")

// findBrowser returns the Chromium or Chrome to drive: $FEEDMILL_BROWSER
// when set, else the first of the usual names on PATH; "" when there is
// none.
func findBrowser() string {
	if p := os.Getenv("FEEDMILL_BROWSER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// pageMessages collects what the page writes to the console that is an
// error: console.error calls, uncaught exceptions, and the browser's own
// error log (failed loads, Content-Security-Policy violations).
type pageMessages struct {
	mu   sync.Mutex
	errs []string
}

func (m *pageMessages) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			msg = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber+1)
	case *log.EventEntryAdded:
		// A browser asks every site for /favicon.ico; the server has none.
		if ev.Entry.Level == log.EntryLevelError && !strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
			msg = fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	}
	if msg != "" {
		m.mu.Lock()
		m.errs = append(m.errs, msg)
		m.mu.Unlock()
	}
}

func (m *pageMessages) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	errs := m.errs
	m.errs = nil
	return errs
}

// TestStatusPageInBrowser loads the status page in a real headless
// Chromium and uses it as a person would: its script must run without an
// error under the page's Content-Security-Policy, sort the table when a
// header is clicked and filter it by status, refresh it from status.json
// without reloading the page (building the same rows as the server), and
// the page must fit a phone's screen.
func TestStatusPageInBrowser(t *testing.T) {
	bctx, msgs := newBrowser(t)
	f := newStatusFixture(t, fixtureOptions{})
	ctx := bctx

	run, eval := browserSteps(t, bctx)
	strs := func(expr string) []string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	// The rows the page shows, in order.
	const visibleRows = `Array.from(document.querySelectorAll("#rows tr[data-index]")).filter(tr => tr.getClientRects().length > 0).map(tr => tr.dataset.name)`
	const allRows = `Array.from(document.querySelectorAll("#rows tr[data-index]")).map(tr => tr.dataset.name)`
	// Every row's markup, whitespace between tags aside: what the server
	// rendered must be what the script builds from status.json.
	const rowMarkup = `Array.from(document.querySelectorAll("#rows tr[data-index]")).map(tr => tr.outerHTML.replace(/>\s+</g, "><").replace(/\s+</g, "<"))`
	waitFor := func(what, predicate string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}

	// waitLoad waits for a link's page to load: until then the page's
	// JavaScript context comes and goes, which fails a Poll.
	waitLoad := func(what, predicate string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+predicate+`)`))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: %v", what, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	run("load the status page", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#sources-table")))
	waitFor("the script", `document.querySelector("#sources-table").hasAttribute("data-live")`)
	eval(`window.feedmillMarker = "same page"; true`)

	if got, want := strs(visibleRows), []string{srcOK, srcFailing, srcNever}; !slices.Equal(got, want) {
		t.Errorf("rows at first %q, want the config's order %q", got, want)
	}
	failingText := eval(`document.querySelector('#rows tr[data-name="alpha-failing"]').innerText`).(string)
	if !strings.Contains(failingText, failingErr) || !strings.Contains(failingText, "3 attempts in a row") {
		t.Errorf("the failing source's row says %q, want its error %q", failingText, failingErr)
	}
	serverRows := strs(rowMarkup)

	// Sorting in place: by name, then by name descending.
	run("click the name header", chromedp.Click(chromedp.CSS(`th[data-key="name"] a`)))
	if got, want := strs(allRows), []string{srcFailing, srcNever, srcOK}; !slices.Equal(got, want) {
		t.Errorf("rows sorted by name %q, want %q", got, want)
	}
	if got := eval(`location.search`); got != "?order=asc&sort=name" {
		t.Errorf("address after sorting by name: %q", got)
	}
	if got := eval(`document.querySelector('th[data-key="name"]').getAttribute("aria-sort")`); got != "ascending" {
		t.Errorf("name header aria-sort %v", got)
	}
	run("click the name header again", chromedp.Click(chromedp.CSS(`th[data-key="name"] a`)))
	if got, want := strs(allRows), []string{srcOK, srcNever, srcFailing}; !slices.Equal(got, want) {
		t.Errorf("rows sorted by name, descending %q, want %q", got, want)
	}
	run("click the failures header", chromedp.Click(chromedp.CSS(`th[data-key="failures"] a`)))
	if got, want := strs(allRows), []string{srcFailing, srcOK, srcNever}; !slices.Equal(got, want) {
		t.Errorf("rows sorted by failures %q, want %q", got, want)
	}

	// Filtering in place.
	run("choose failing", chromedp.Click(chromedp.CSS(`#filter a[data-status="failing"]`)))
	if got, want := strs(visibleRows), []string{srcFailing}; !slices.Equal(got, want) {
		t.Errorf("rows shown with the failing filter %q, want %q", got, want)
	}
	if got := eval(`location.search`); got != "?order=desc&sort=failures&status=failing" {
		t.Errorf("address after filtering: %q", got)
	}
	run("choose all", chromedp.Click(chromedp.CSS(`#filter a[data-status=""]`)))
	if got := strs(visibleRows); len(got) != 3 {
		t.Errorf("rows shown with no filter %q", got)
	}

	// Refreshing from status.json: the same rows as the server's, then a
	// change in the store shows up without a page load.
	run("sort by the config again", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#sources-table")))
	waitFor("the script", `document.querySelector("#sources-table").hasAttribute("data-live")`)
	eval(`window.feedmillMarker = "same page"; document.querySelectorAll("#rows tr[data-index]").forEach(tr => tr.feedmillOld = true); true`)
	run("click reload", chromedp.Click(chromedp.CSS("#reload")))
	waitFor("the refreshed rows", `!document.querySelector("#rows tr[data-index]").feedmillOld`)
	if got := strs(rowMarkup); !slices.Equal(got, serverRows) {
		for i := range max(len(got), len(serverRows)) {
			if i >= len(got) || i >= len(serverRows) || got[i] != serverRows[i] {
				t.Errorf("row %d built by the script differs from the server's:\nscript: %s\nserver: %s", i, at(got, i), at(serverRows, i))
			}
		}
	}
	st, err := f.store.State(ctx, srcFailing)
	if err != nil {
		t.Fatal(err)
	}
	// A last success long ago is told by its day, by the script as by
	// the server.
	longAgo := f.now.Add(-400 * 24 * time.Hour)
	longAgoDay := "last success " + longAgo.UTC().Format("2 Jan 2006")
	st.LastFetch, st.Failures, st.LastError = f.now.Add(-5*time.Minute), 4, "fetch https://alpha.example/feed: connection refused"
	st.LastSuccess = longAgo
	// When the source is tried again, and why.
	st.NextFetch, st.NextReason = f.now.Add(2*time.Hour+30*time.Minute), feed.NextBackoff
	nextWhy := "backing off after 4 failures in a row"
	saveState(t, f.store, st)
	run("choose failing", chromedp.Click(chromedp.CSS(`#filter a[data-status="failing"]`)))
	run("click reload", chromedp.Click(chromedp.CSS("#reload")))
	waitFor("the new error", `document.querySelector('#rows tr[data-name="alpha-failing"]').innerText.includes("connection refused")`)
	if got := eval(`window.feedmillMarker`); got != "same page" {
		t.Errorf("the page was reloaded (marker %v), not refreshed in place", got)
	}
	if got, want := strs(visibleRows), []string{srcFailing}; !slices.Equal(got, want) {
		t.Errorf("rows shown after a refresh with the failing filter %q, want %q", got, want)
	}
	if got := eval(`document.querySelector('#rows tr[data-name="alpha-failing"]').innerText`).(string); !strings.Contains(got, "4 attempts in a row") || !strings.Contains(got, longAgoDay) || !strings.Contains(got, "in 2h") || !strings.Contains(got, nextWhy) {
		t.Errorf("refreshed failing row says %q, want 4 attempts, %q, and next fetch in 2h…, %q", got, longAgoDay, nextWhy)
	}

	// Without JavaScript, the header and filter links ask the server for
	// the same views.
	if _, err := chromedp.Call(bctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable scripts: %v", err)
	}
	run("load without scripts", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#sources-table")))
	if got := eval(`document.querySelector("#sources-table").hasAttribute("data-live")`); got != false {
		t.Error("the script ran although scripts are disabled")
	}
	run("click the name header", chromedp.Click(chromedp.CSS(`th[data-key="name"] a`)))
	waitLoad("the page sorted by name", `location.search === "?order=asc&sort=name"`)
	if got, want := strs(allRows), []string{srcFailing, srcNever, srcOK}; !slices.Equal(got, want) {
		t.Errorf("without scripts, rows sorted by name %q, want %q", got, want)
	}
	run("choose failing", chromedp.Click(chromedp.CSS(`#filter a[data-status="failing"]`)))
	waitLoad("the failing sources", `location.search === "?order=asc&sort=name&status=failing"`)
	if got, want := strs(allRows), []string{srcFailing}; !slices.Equal(got, want) {
		t.Errorf("without scripts, rows with the failing filter %q, want %q", got, want)
	}
	if got := eval(`document.querySelector('#rows tr[data-name="alpha-failing"]').innerText`).(string); !strings.Contains(got, longAgoDay) || !strings.Contains(got, "in 2h") || !strings.Contains(got, nextWhy) {
		t.Errorf("the server's failing row says %q, want %q and next fetch in 2h…, %q", got, longAgoDay, nextWhy)
	}
	if _, err := chromedp.Call(bctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatalf("enable scripts: %v", err)
	}

	// A phone: the page fits its width, the sources are cards.
	run("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#sources-table")))
	waitFor("the script", `document.querySelector("#sources-table").hasAttribute("data-live")`)
	if got := eval(`getComputedStyle(document.querySelector("#rows tr[data-index]")).display`); got != "block" {
		t.Errorf("on a phone a source row displays as %v, want a card (block)", got)
	}
	if got := eval(`document.documentElement.scrollWidth <= window.innerWidth`); got != true {
		t.Errorf("the page is wider than the phone: %v > %v", eval(`document.documentElement.scrollWidth`), eval(`window.innerWidth`))
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("FEEDMILL_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "status-page-phone.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("phone screenshot of the status page: %s", path)
	if *screenshotDocs {
		docs := filepath.Join("..", "..", "docs", "status-page.png")
		if err := os.WriteFile(docs, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", docs)
	}

	// Every source fails the same way (the network is gone): one banner
	// says so, on the page the server renders and on the page the script
	// refreshes in place.
	if got := eval(`document.getElementById("outage").hidden`); got != true {
		t.Errorf("the outage banner shows while sources work (hidden = %v)", got)
	}
	eval(`window.feedmillMarker = "same page"; true`)
	for _, name := range []string{srcOK, srcFailing} {
		st, err := f.store.State(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		st.LastFetch, st.Failures, st.LastStatus = f.now.Add(-time.Minute), st.Failures+1, 0
		st.LastError, st.LastCause = "fetch https://"+name+".example/feed: "+feed.CauseNoHost.Words()+" (lookup: no such host)", feed.CauseNoHost
		saveState(t, f.store, st)
	}
	run("click reload", chromedp.Click(chromedp.CSS("#reload")))
	waitFor("the outage banner", `!document.getElementById("outage").hidden`)
	banner := eval(`document.getElementById("outage").innerText`).(string)
	if !strings.Contains(banner, "Every source failed the same way") || !strings.Contains(banner, "(2 sources)") ||
		!strings.Contains(banner, "no such host: check the name, or this machine's network/DNS") {
		t.Errorf("the refreshed banner says %q", banner)
	}
	if got := eval(`window.feedmillMarker`); got != "same page" {
		t.Errorf("the page was reloaded (marker %v), not refreshed in place", got)
	}
	run("load the page again", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#outage")))
	if got := eval(`document.getElementById("outage").innerText`).(string); got != banner {
		t.Errorf("the server's banner says %q, the script's %q", got, banner)
	}

	for _, m := range msgs.take() {
		t.Errorf("the page reported an error: %s", m)
	}
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Error("the browser test ran out of time")
	}
}

// newBrowser starts a headless Chromium for the test, or skips the test
// where there is none. It returns the context to drive the browser with,
// which ends with the test or after a minute, a safety net, and what the
// browser's pages report as errors.
// browserSteps returns run, which does the steps in the browser of bctx
// and fails t with what when one fails, and eval, which evaluates a
// JavaScript expression there and fails t when it throws.
func browserSteps(t *testing.T, bctx context.Context) (run func(what string, steps ...chromedp.Action[chromedp.Void]), eval func(expr string) any) {
	run = func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval = func(expr string) any {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[any](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	return run, eval
}

func newBrowser(t *testing.T) (context.Context, *pageMessages) {
	t.Helper()
	browser := findBrowser()
	if browser == "" {
		t.Skip("no Chromium or Chrome on PATH (nor FEEDMILL_BROWSER): install chromium to run the browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("no-proxy-server", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	msgs := &pageMessages{}
	// chromedp's own complaints go to the test log while the test runs.
	var done atomic.Bool
	t.Cleanup(func() { done.Store(true) })
	logf := func(format string, args ...any) {
		if !done.Load() {
			t.Logf("chromedp: "+format, args...)
		}
	}
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(msgs.listen), chromedp.WithErrorf(logf))
	t.Cleanup(cancelBrowser)
	return bctx, msgs
}

// TestFeedPageInBrowser reads a feed's page in a real headless Chromium as
// a person would: every item with its source, date and excerpt, and the
// picture loaded from its own host (another origin) under the page's
// Content-Security-Policy, on a wide screen and on a phone.
func TestFeedPageInBrowser(t *testing.T) {
	bctx, msgs := newBrowser(t)
	// The picture's host: another origin than the pages'.
	var pic bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for x := range 64 {
		for y := range 40 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: 90, B: uint8(y * 6), A: 255})
		}
	}
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	pictures := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pic.Bytes())
	}))
	t.Cleanup(pictures.Close)
	f := newStatusFixture(t, fixtureOptions{
		itemText:  "<p>The harbour wall <b>repairs</b> finished early, and under budget.</p>",
		itemImage: pictures.URL + "/wall.png",
	})

	run, eval := browserSteps(t, bctx)
	const picture = `document.querySelector(".item img.thumb")`
	for _, screen := range []struct {
		name string
		set  chromedp.Action[chromedp.Void]
	}{
		{"a wide screen", chromedp.EmulateViewport(1280, 900)},
		{"a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)},
	} {
		run("load the feed page on "+screen.name, screen.set, chromedp.Navigate(f.ts.URL+"/feeds/all"), chromedp.WaitVisible(chromedp.CSS(".items")))
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](picture+` && `+picture+`.complete && `+picture+`.naturalWidth === 64`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Errorf("on %s the item's picture did not load: %v", screen.name, err)
		}
		item := eval(picture + `.closest(".item").innerText`).(string)
		for _, want := range []string{"Post 3", srcOK + " · ", "ago", "The harbour wall repairs finished early, and under budget."} {
			if !strings.Contains(item, want) {
				t.Errorf("on %s the item reads %q, without %q", screen.name, item, want)
			}
		}
		if got := eval(`document.querySelectorAll(".items > .item").length`); got != float64(7) {
			t.Errorf("on %s the page shows %v items, want 7", screen.name, got)
		}
		if got := eval(picture + `.closest(".item").querySelector(".meta a").href`); got != f.base+"/sources/"+srcOK {
			t.Errorf("the item's source links to %v", got)
		}
		if got := eval(`document.documentElement.scrollWidth <= window.innerWidth`); got != true {
			t.Errorf("on %s the page is wider than the screen", screen.name)
		}
	}
	for _, m := range msgs.take() {
		t.Errorf("the page reported an error: %s", m)
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
