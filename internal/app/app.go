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
	"slices"
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

// command is one feedmill command: the one place that says what its usage
// line shows, which flags and arguments it takes and what it runs. Adding a
// command is adding an entry to commands.
type command struct {
	name    string
	aliases []string // other spellings (-version); not shown
	// synopsis is what the usage line shows after the name and the
	// -config flag: the command's own flags, as "[-flag VALUE]", then
	// args.
	synopsis []string
	// summary is what the command does, as the lines of the usage text's
	// right-hand column.
	summary []string
	// args names the positional arguments; a command takes exactly these,
	// and then any number of more when more names them (shown as
	// "[MORE...]").
	args []string
	more string
	// bare commands take no flags and no config, and ignore any further
	// arguments.
	bare bool
	// progress draws a progress bar on stderr when it is a terminal.
	progress bool
	// flags adds the command's own flags to fs, storing into o.
	flags func(fs *flag.FlagSet, o *options)
	run   func(ctx context.Context, inv *invocation) error
}

// options are the values of the commands' own flags.
type options struct {
	listen string     // serve -listen
	force  bool       // fetch -force
	n      int        // preview -n
	add    addOptions // add -name, -category
}

// invocation is what a command runs with.
type invocation struct {
	options
	config         string   // -config
	args           []string // the positional arguments, as many as the command's args
	stdout, stderr io.Writer
	logger         *slog.Logger
	bar            *progress // fetch's progress bar; nil when not drawn
}

// commands are feedmill's commands, in the order the usage text lists
// them.
var commands = []command{
	{
		name:     "serve",
		synopsis: []string{"[-log-level info]", "[-listen ADDR]"},
		summary:  []string{"run the daemon (SIGHUP or editing the", "config reloads it); -listen overrides", "server.listen"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.listen, "listen", "", "listen on `address` instead of the config's server.listen")
		},
		run: func(ctx context.Context, inv *invocation) error {
			return serve(ctx, inv.config, inv.listen, inv.stderr, inv.logger)
		},
	},
	{
		name:     "fetch",
		synopsis: []string{"[-log-level info]", "[-force]"},
		summary: []string{"refresh SOURCEs (names or globs; all by", "default) at once, then exit; a source",
			"backing off or paused by its server waits", "unless -force"},
		more:     "SOURCE",
		progress: true,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.force, "force", false, "fetch even the sources waiting after failures, a Retry-After or a 429")
		},
		run: func(ctx context.Context, inv *invocation) error {
			return fetchCommand(ctx, inv.config, fetchRequest{sources: inv.args, force: inv.force}, inv.stderr, inv.logger, inv.bar)
		},
	},
	{
		name:    "check",
		summary: []string{"validate the config"},
		run: func(_ context.Context, inv *invocation) error {
			return check(inv.config, inv.stdout, inv.stderr)
		},
	},
	{
		name:     "preview",
		synopsis: []string{"[-n 5]"},
		summary:  []string{"show what a source's newest items would publish"},
		args:     []string{"SOURCE"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.IntVar(&o.n, "n", 5, "how many of the newest items to show")
		},
		run: func(ctx context.Context, inv *invocation) error {
			return previewSource(ctx, inv.config, inv.args[0], inv.n, inv.stdout, inv.stderr, inv.logger)
		},
	},
	{
		name:    "explain",
		summary: []string{"show what learned boilerplate removal takes out", "of a stored item (ITEM: its id or link)"},
		args:    []string{"SOURCE", "ITEM"},
		run: func(ctx context.Context, inv *invocation) error {
			return withPipeline(ctx, inv.config, inv.stderr, inv.logger, func(p *pipeline) error { return explain(ctx, p, inv.args[0], inv.args[1], inv.stdout, inv.logger) })
		},
	},
	{
		name:    "import",
		summary: []string{"add a reader's OPML export to the sources"},
		args:    []string{"FILE.opml"},
		run: func(_ context.Context, inv *invocation) error {
			return importOPML(inv.config, inv.args[0], inv.stdout)
		},
	},
	{
		name:     "add",
		synopsis: []string{"[-category C]...", "[-name NAME]"},
		summary:  []string{"add the feed at URL, or the feed a web page", "at URL advertises, to the sources"},
		args:     []string{"URL"},
		flags: func(fs *flag.FlagSet, o *options) {
			fs.Func("category", "put the source in `category` (repeat for more)", func(c string) error {
				o.add.categories = append(o.add.categories, c)
				return nil
			})
			fs.StringVar(&o.add.name, "name", "", "the source's `name` (default: made from the feed's title)")
		},
		run: func(ctx context.Context, inv *invocation) error {
			return addSource(ctx, inv.config, inv.args[0], inv.add, inv.stdout, inv.stderr, inv.logger)
		},
	},
	{
		name:    "sources",
		summary: []string{"list the sources and how each is doing"},
		run: func(ctx context.Context, inv *invocation) error {
			width := 0
			if cols, tty := terminalWidth(inv.stdout); tty {
				width = cols
				if width <= 0 {
					width = 100
				}
			}
			return listSources(ctx, inv.config, inv.stdout, inv.stderr, width, inv.logger)
		},
	},
	{
		name:    "version",
		aliases: []string{"-version", "--version"},
		summary: []string{"print the version"},
		bare:    true,
		run: func(_ context.Context, inv *invocation) error {
			fmt.Fprintln(inv.stdout, "feedmill", Version())
			return nil
		},
	},
}

// Columns of the usage text: the synopsis starts after "  feedmill NAME ",
// wraps before synopsisWidth, and the summary starts at summaryColumn.
const (
	synopsisWidth = 38
	summaryColumn = 60
)

// usage returns the usage text, made from commands.
func usage() string {
	var b strings.Builder
	b.WriteString("feedmill combines many feeds into a few, and serves them as RSS, Atom and JSON Feed.\n\nUsage:\n")
	for _, c := range commands {
		lead := fmt.Sprintf("  feedmill %-7s ", c.name)
		var words []string
		if !c.bare {
			words = append(words, "[-config feeds.yaml]")
		}
		words = append(words, c.synopsis...)
		words = append(words, c.args...)
		if c.more != "" {
			words = append(words, "["+c.more+"...]")
		}
		synopsis := wrapWords(words, synopsisWidth)
		for i := range max(len(synopsis), len(c.summary)) {
			line := lead
			if i < len(synopsis) {
				line += synopsis[i]
			}
			if i < len(c.summary) {
				line = fmt.Sprintf("%-*s%s", summaryColumn, line, c.summary[i])
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			lead = strings.Repeat(" ", len(lead))
		}
	}
	b.WriteString(`
Every command that logs also takes -log-level debug|info|warn|error
(default info; warn for fetch on a terminal, under its progress bar) and
-log-format text|json (default text). Logs go to stderr.

Exit status: 0 on success, 1 when a fetch pass had failing sources or on a
runtime error, 2 on an invalid config or command line.
`)
	return b.String()
}

// wrapWords joins words with spaces into lines at most width long (a
// longer word gets a line of its own).
func wrapWords(words []string, width int) []string {
	var lines []string
	for _, w := range words {
		if n := len(lines); n > 0 && len(lines[n-1])+1+len(w) <= width {
			lines[n-1] += " " + w
			continue
		}
		lines = append(lines, w)
	}
	return lines
}

// lookup returns the command called name, or false.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return command{}, false
}

// argsWanted says what a command with these arguments takes, for the
// error when it is given others: "no arguments", "one argument, URL",
// "two arguments, SOURCE and ITEM".
func argsWanted(args []string) string {
	switch len(args) {
	case 0:
		return "no arguments"
	case 1:
		return "one argument, " + args[0]
	case 2:
		return "two arguments, " + args[0] + " and " + args[1]
	}
	return fmt.Sprintf("%d arguments, %s and %s", len(args), strings.Join(args[:len(args)-1], ", "), args[len(args)-1])
}

// Run runs the feedmill command line given by args (without the program
// name), writing to stdout and stderr. SIGINT and SIGTERM cancel it; during
// `serve`, SIGHUP reloads the config.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return &ExitError{Code: 2, Err: errors.New("no command given")}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprint(stderr, usage())
		return &ExitError{Code: 2, Err: fmt.Errorf("unknown command %q", name)}
	}
	inv := &invocation{stdout: stdout, stderr: stderr}
	if cmd.bare {
		return cmd.run(ctx, inv)
	}

	fs := flag.NewFlagSet("feedmill "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&inv.config, "config", "feeds.yaml", "path of the config `file`")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	if cmd.flags != nil {
		cmd.flags(fs, &inv.options)
	}
	args, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &ExitError{Code: 2, Err: err}
	}
	if len(args) != len(cmd.args) && (cmd.more == "" || len(args) < len(cmd.args)) {
		return &ExitError{Code: 2, Err: fmt.Errorf("feedmill %s takes %s", cmd.name, argsWanted(cmd.args))}
	}
	inv.args = args
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("-log-level: %w", err)}
	}
	// On a terminal, fetch draws a progress bar on stderr: everything
	// else written there goes through it, and info lines (one per
	// source, which the summary repeats) are left out unless asked for.
	if cols, tty := terminalWidth(stderr); tty && cmd.progress {
		inv.bar = newProgress(stderr, cols, nil)
		inv.stderr = inv.bar
		levelSet := false
		fs.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
		if !levelSet {
			level = slog.LevelWarn
		}
	}
	logger, err := newLogger(inv.stderr, *logFormat, level)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	inv.logger = logger
	return cmd.run(ctx, inv)
}

// parseInterspersed parses args with fs, taking flags wherever they stand
// (`feedmill fetch news -force` as `feedmill fetch -force news`), and
// returns the other arguments in order. After "--" every argument is one
// of those, whatever it looks like. The flag package alone stops at the
// first argument that is not a flag.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var after []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, after = args[:i], args[i+1:]
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(rest, after...), nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printConfigErrors writes each config problem on its own line
// (`feeds.yaml:LINE: message`).
func printConfigErrors(w io.Writer, err error) {
	for line := range strings.SplitSeq(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintln(w, line)
	}
}
