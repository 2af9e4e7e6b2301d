package scrape

import (
	"testing"

	"github.com/feedmill/feedmill/internal/normalize"
	"github.com/feedmill/feedmill/internal/testkit"
)

// rules are normalize's rules in the form testkit's checkers take them:
// the items scrape makes keep the promises Normalize's do, and are checked
// the same way.
var rules = testkit.Rules{
	Caps: testkit.Caps{
		Title: normalize.MaxTitleBytes, ID: normalize.MaxIDBytes, Link: normalize.MaxLinkBytes,
		Content: normalize.MaxContentBytes, Authors: normalize.MaxAuthors, Categories: normalize.MaxCategories,
		AuthorName: normalize.MaxAuthorBytes, AuthorEmail: normalize.MaxEmailBytes, Category: normalize.MaxCategoryBytes,
	},
	XMLForbidden: normalize.XMLForbidden,
	CleanEmail:   normalize.CleanEmail,
	Defuse:       normalize.Defuse,
	MediaType:    normalize.MediaTypePattern,
	Player:       normalize.PlayerURLPattern,
}

// testNow is the fixed clock of every test.
var testNow = testkit.TestNow

// checkInvariants fails t unless f keeps the promises of Normalize.
func checkInvariants(t testing.TB, f *normalize.Feed) {
	t.Helper()
	rules.CheckInvariants(t, testkit.Feed{Title: f.Title, Link: f.Link, Hub: f.Hub, Self: f.Self, Items: f.Items, Duplicates: f.Duplicates})
}

// newTestScraper returns a Scraper over a Normalizer with default options.
func newTestScraper() *Scraper { return New(normalize.New(normalize.Options{}), nil) }
