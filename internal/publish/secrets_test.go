package publish

import (
	"strings"
	"testing"

	"github.com/feedmill/feedmill/internal/feed"
)

// TestSourceURLsPublishedWithoutSecrets publishes sources whose URLs carry
// a password, keys and tokens: every document names them by the URL
// without its secrets, the same whichever secret the URL carries.
func TestSourceURLsPublishedWithoutSecrets(t *testing.T) {
	render := func(password, key string) map[string]string {
		sources := testSources()
		sources[0].URL = "https://user:" + password + "@alpha.example.com/feed.xml?apikey=" + key + "&page=2&session=" + key
		sources[1].URL = "https://beta.example.net/rss?x-api-key=" + key
		st := &memStore{states: testStates()}
		st.set(testItems())
		p := New(Options{BaseURL: testBase, Redactor: feed.NewRedactor("session")}, testSpecs(), sources, st)
		if err := p.Rebuild(t.Context()); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{"opml": string(p.OPML().Body)}
		for _, f := range []Format{Atom, RSS, JSON} {
			out[f.String()] = string(mustSnapshot(t, p, "all", f).Body)
			out["tech."+f.String()] = string(mustSnapshot(t, p, "tech", f).Body)
		}
		return out
	}
	first, second := render("s3cr3t", "K3Y"), render("n3w", "N3WK")
	for name, body := range first {
		for _, secret := range []string{"s3cr3t", "K3Y", "user"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s carries %q", name, secret)
			}
		}
		if !strings.Contains(body, "alpha.example.com/feed.xml?page=2") {
			t.Errorf("%s lacks the public URL of the source", name)
		}
		if body != second[name] {
			t.Errorf("%s changed when the secrets rotated", name)
		}
	}
}
