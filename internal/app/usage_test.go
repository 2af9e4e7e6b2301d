package app

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestUsage checks the usage text against testdata/usage.golden (edited
// by hand with the command table), wherever it is printed: by help (on stdout), and with no command or an unknown one (on
// stderr, exit status 2).
func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		toStderr bool
	}{
		{args: []string{"help"}},
		{args: []string{"-h"}},
		{args: []string{"--help"}},
		{args: nil, wantCode: 2, toStderr: true},
		{args: []string{"frobnicate"}, wantCode: 2, toStderr: true},
	}
	want, err := os.ReadFile("testdata/usage.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"feedmill"}, tt.args...), " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), tt.args, &stdout, &stderr)
			if code := ExitCode(err); code != tt.wantCode {
				t.Fatalf("exit status %d (%v), want %d", code, err, tt.wantCode)
			}
			got, other := stdout.Bytes(), stderr.Bytes()
			if tt.toStderr {
				got, other = other, got
			}
			if len(other) != 0 {
				t.Errorf("also printed on the other stream:\n%s", other)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("usage differs from testdata/usage.golden:\n%s", got)
			}
		})
	}
}

// TestCommandTable checks that every command in the table is in the usage
// text with its arguments and summary, answers to its name and aliases,
// and refuses a wrong number of arguments with what it takes.
func TestCommandTable(t *testing.T) {
	text := usage()
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			var line string
			for l := range strings.Lines(text) {
				if strings.HasPrefix(l, "  feedmill "+c.name+" ") {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no usage line starts with feedmill %s:\n%s", c.name, text)
			}
			for _, want := range append(append(slices.Clone(c.args), c.synopsis...), c.summary...) {
				if !strings.Contains(text, want) {
					t.Errorf("the usage text lacks %q", want)
				}
			}
			for _, name := range append([]string{c.name}, c.aliases...) {
				if got, ok := lookup(name); !ok || got.name != c.name {
					t.Errorf("lookup(%q) = %q, %v", name, got.name, ok)
				}
			}
			if c.bare {
				return
			}
			if c.more != "" && !strings.Contains(text, "["+c.more+"...]") {
				t.Errorf("the usage text lacks [%s...]", c.more)
			}
			// One argument too many, or, for a command taking more, one
			// too few (none when it takes only more).
			n := len(c.args) + 1
			if c.more != "" {
				n = len(c.args) - 1
			}
			if n < 0 {
				return
			}
			args := []string{c.name, "-config", filepath.Join(t.TempDir(), "absent.yaml")}
			for range n {
				args = append(args, "x")
			}
			var stdout, stderr bytes.Buffer
			err := Run(t.Context(), args, &stdout, &stderr)
			want := "feedmill " + c.name + " takes " + argsWanted(c.args)
			if ExitCode(err) != 2 || err.Error() != want {
				t.Errorf("with %d arguments: %v (exit status %d), want %q and 2", n, err, ExitCode(err), want)
			}
		})
	}
}

func TestArgsWanted(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no arguments"},
		{[]string{"URL"}, "one argument, URL"},
		{[]string{"SOURCE", "ITEM"}, "two arguments, SOURCE and ITEM"},
		{[]string{"A", "B", "C"}, "3 arguments, A, B and C"},
	}
	for _, tt := range tests {
		if got := argsWanted(tt.args); got != tt.want {
			t.Errorf("argsWanted(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestParseInterspersed: flags count wherever they stand among the
// arguments (`feedmill fetch news -force`); after "--" nothing is a flag.
func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		wantArgs  []string
		wantForce bool
		wantErr   bool
	}{
		{[]string{"news", "-force"}, []string{"news"}, true, false},
		{[]string{"-force", "news", "sport"}, []string{"news", "sport"}, true, false},
		{[]string{"news", "sport"}, []string{"news", "sport"}, false, false},
		{[]string{"news", "-force", "sport"}, []string{"news", "sport"}, true, false},
		{[]string{"news", "--", "-odd-name"}, []string{"news", "-odd-name"}, false, false},
		{[]string{"--", "-force"}, []string{"-force"}, false, false},
		{[]string{"news", "-nope"}, nil, false, true},
		{nil, nil, false, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		force := fs.Bool("force", false, "")
		got, err := parseInterspersed(fs, tc.args)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if err == nil && (!slices.Equal(got, tc.wantArgs) || *force != tc.wantForce) {
			t.Errorf("%q: args %q force %v, want %q %v", tc.args, got, *force, tc.wantArgs, tc.wantForce)
		}
	}
}
