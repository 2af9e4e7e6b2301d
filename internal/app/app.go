// Package app wires feedmill together: it is the one place that knows the
// concrete config loader, fetcher, normalizer, store, publisher, refresher
// and server, and the one that handles signals.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is stamped by the Makefile with -ldflags -X; a plain `go build`
// falls back to the module version from the build info.
var version = ""

// Version returns feedmill's version.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// ExitError carries the process exit code for an error. Run returns it for
// outcomes that are not crashes: an invalid config (2), a fetch pass with
// failed sources (1).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps Run's error to a process exit code: 0 for nil, the code of
// an *ExitError, 2 for usage errors, 1 otherwise.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*ExitError](err); ok {
		return ee.Code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

const usage = `feedmill combines many feeds into a few, and serves them as RSS, Atom and JSON Feed.

Usage:
  feedmill serve   [-config feeds.yaml] [-log-level info]   run the daemon (SIGHUP or editing the
                   [-listen ADDR]                           config reloads it); -listen overrides
                                                            server.listen
  feedmill fetch   [-config feeds.yaml] [-log-level info]   refresh every source once, then exit
  feedmill check   [-config feeds.yaml]                     validate the config
  feedmill preview [-config feeds.yaml] [-n 5] SOURCE       show what a source's newest items would publish
  feedmill explain [-config feeds.yaml] SOURCE ITEM         show what learned boilerplate removal takes out
                                                            of a stored item (ITEM: its id or link)
  feedmill import  [-config feeds.yaml] FILE.opml           add a reader's OPML export to the sources
  feedmill add     [-config feeds.yaml] [-category C]...    add the feed at URL, or the feed a web page
                   [-name NAME] URL                         at URL advertises, to the sources
  feedmill sources [-config feeds.yaml]                     list the sources and how each is doing
  feedmill version                                          print the version

Every command that logs also takes -log-level debug|info|warn|error
(default info; warn for fetch on a terminal, under its progress bar) and
-log-format text|json (default text). Logs go to stderr.

Exit status: 0 on success, 1 when a fetch pass had failing sources or on a
runtime error, 2 on an invalid config or command line.
`

// Run runs the feedmill command line given by args (without the program
// name), writing to stdout and stderr. SIGINT and SIGTERM cancel it; during
// `serve`, SIGHUP reloads the config.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &ExitError{Code: 2, Err: errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "feedmill", Version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "serve", "fetch", "check", "preview", "explain", "import", "add", "sources":
	default:
		fmt.Fprint(stderr, usage)
		return &ExitError{Code: 2, Err: fmt.Errorf("unknown command %q", cmd)}
	}

	fs := flag.NewFlagSet("feedmill "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "feeds.yaml", "path of the config `file`")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	listen := ""
	if cmd == "serve" {
		fs.StringVar(&listen, "listen", "", "listen on `address` instead of the config's server.listen")
	}
	n := 5
	if cmd == "preview" {
		fs.IntVar(&n, "n", n, "how many of the newest items to show")
	}
	var add addOptions
	if cmd == "add" {
		fs.Func("category", "put the source in `category` (repeat for more)", func(c string) error {
			add.categories = append(add.categories, c)
			return nil
		})
		fs.StringVar(&add.name, "name", "", "the source's `name` (default: made from the feed's title)")
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &ExitError{Code: 2, Err: err}
	}
	want := map[string]int{"preview": 1, "explain": 2, "import": 1, "add": 1}[cmd]
	if fs.NArg() != want {
		names := map[string]string{"preview": "one argument, SOURCE", "explain": "two arguments, SOURCE and ITEM", "import": "one argument, FILE.opml", "add": "one argument, URL"}[cmd]
		if want == 0 {
			names = "no arguments"
		}
		return &ExitError{Code: 2, Err: fmt.Errorf("feedmill %s takes %s", cmd, names)}
	}
	args = fs.Args()
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("-log-level: %w", err)}
	}
	// On a terminal, fetch draws a progress bar on stderr: everything
	// else written there goes through it, and info lines (one per
	// source, which the summary repeats) are left out unless asked for.
	var bar *progress
	if cols, tty := terminalWidth(stderr); tty && cmd == "fetch" {
		bar = newProgress(stderr, cols, nil)
		stderr = bar
		levelSet := false
		fs.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
		if !levelSet {
			level = slog.LevelWarn
		}
	}
	logger, err := newLogger(stderr, *logFormat, level)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}

	switch cmd {
	case "check":
		return check(*configPath, stdout, stderr)
	case "import":
		return importOPML(*configPath, args[0], stdout)
	case "fetch":
		return fetchCommand(ctx, *configPath, stderr, logger, bar)
	case "add":
		return addSource(ctx, *configPath, args[0], add, stdout, stderr, logger)
	case "sources":
		width := 0
		if cols, tty := terminalWidth(stdout); tty {
			width = cols
			if width <= 0 {
				width = 100
			}
		}
		return listSources(ctx, *configPath, stdout, stderr, width, logger)
	case "preview":
		return withPipeline(ctx, *configPath, stderr, logger, func(p *pipeline) error { return preview(ctx, p, args[0], n, stdout) })
	case "explain":
		return withPipeline(ctx, *configPath, stderr, logger, func(p *pipeline) error { return explain(ctx, p, args[0], args[1], stdout) })
	default:
		return serve(ctx, *configPath, listen, stderr, logger)
	}
}

// printConfigErrors writes each config problem on its own line
// (`feeds.yaml:LINE: message`).
func printConfigErrors(w io.Writer, err error) {
	for line := range strings.SplitSeq(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintln(w, line)
	}
}
