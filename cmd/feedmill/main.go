// Command feedmill combines many feeds into a few and serves them as RSS,
// Atom and JSON Feed. See the README for the commands and feeds.yaml.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/feedmill/feedmill/internal/app"
)

func main() {
	err := app.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	code := app.ExitCode(err)
	if err != nil && code != 0 {
		fmt.Fprintln(os.Stderr, "feedmill:", err)
	}
	os.Exit(code)
}
