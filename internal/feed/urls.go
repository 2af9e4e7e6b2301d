package feed

import "net/url"

// IsFrontPage reports whether u names a site's front page: a path of "/"
// or none, and no query. Such a URL names no single article: a
// misconfigured rel=canonical pointing home on every article of a site
// (common on news sites) must neither make the site's articles one story
// nor one page.
func IsFrontPage(u *url.URL) bool {
	return (u.Path == "" || u.Path == "/") && u.RawQuery == ""
}
