package normalize

import (
	"testing"

	"github.com/feedmill/feedmill/internal/testkit"
)

// rules are normalize's rules in the form testkit's checkers take them;
// scrape's tests fill in the same from the exported names.
var rules = testkit.Rules{
	Caps: testkit.Caps{
		Title: MaxTitleBytes, ID: MaxIDBytes, Link: MaxLinkBytes, Content: MaxContentBytes,
		Authors: MaxAuthors, Categories: MaxCategories,
		AuthorName: MaxAuthorBytes, AuthorEmail: MaxEmailBytes, Category: MaxCategoryBytes,
	},
	XMLForbidden: xmlForbidden,
	CleanEmail:   cleanEmail,
	Defuse:       defuse,
	MediaType:    enclosureType,
	Player:       playerURLPattern,
}

// testNow is the fixed clock of every test.
var testNow = testkit.TestNow

// checkInvariants fails t unless f keeps the promises of Normalize.
func checkInvariants(t testing.TB, f *Feed) {
	t.Helper()
	rules.CheckInvariants(t, testkit.Feed{Title: f.Title, Link: f.Link, Hub: f.Hub, Self: f.Self, Items: f.Items, Duplicates: f.Duplicates})
}
