// Command feedmill combines many feeds into a few and serves them as RSS,
// Atom and JSON Feed. See README.md for the commands, and
// docs/configuration.md for feeds.yaml.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/feedmill/feedmill/internal/app"
	"github.com/feedmill/feedmill/internal/heapfloor"
)

func main() {
	// The collector's settings are the process's, so they are made here
	// rather than in app.Run, which tests run many of at once.
	heapfloor.Set(heapfloor.Default)
	err := app.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	code := app.ExitCode(err)
	if err != nil && code != 0 {
		fmt.Fprintln(os.Stderr, "feedmill:", err)
	}
	os.Exit(code)
}
