package feed

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultSecretParams are the query parameter names whose values are
// secrets in every Redactor. A parameter is secret when its name, or a run
// of the words its name is made of, spelled without separators and in any
// case, is one of these: "apikey" covers apikey, api_key, API-Key, apiKey and
// x-api-key; "secret" covers client_secret; "token" covers oauth_token and
// accessToken. A word that merely contains one ("author", "monkey",
// "mytoken") does not count.
var defaultSecretParams = []string{
	"key", "apikey", "api_key", "token", "access_token", "secret",
	"password", "passwd", "auth", "sig", "signature",
}

// Redacted is what a Redactor writes in place of a secret.
const Redacted = "xxxxx"

// Redactor hides the secrets a URL may carry: the user information
// (user:password@, both parts, since a user name is often a key itself)
// and the values of query parameters whose names say they are secrets
// (defaultSecretParams plus the names it was made with). It is the one
// place feedmill decides what is secret in a URL; logs, error messages,
// the CLI, the status pages and the published documents all go through it.
//
// The zero Redactor knows the default names only. A Redactor is a small
// immutable value: copy it freely. It is comparable, so that options that
// hold one (fetch.Options) are too.
type Redactor struct {
	// extra are the extra names as matched (see squash), each followed
	// by a comma: a string rather than a slice keeps Redactor comparable.
	extra string
}

// NewRedactor returns a Redactor that treats the given parameter names as
// secret on top of defaultSecretParams. The names match like the defaults.
func NewRedactor(extra ...string) Redactor {
	var b strings.Builder
	for _, n := range extra {
		if k := squash(n); k != "" {
			b.WriteString(k)
			b.WriteByte(',')
		}
	}
	return Redactor{extra: b.String()}
}

var defaultSecrets = func() map[string]bool {
	m := make(map[string]bool, len(defaultSecretParams))
	for _, n := range defaultSecretParams {
		m[squash(n)] = true
	}
	return m
}()

// maxNameWords bounds the work spent on one parameter name: a name is made
// of at most this many words as far as matching goes.
const maxNameWords = 16

// IsSecretParam reports whether a query parameter called name holds a
// secret.
func (r Redactor) IsSecretParam(name string) bool {
	words := splitWords(name)
	if len(words) > maxNameWords {
		words = words[:maxNameWords]
	}
	for i := range words {
		joined := ""
		for j := i; j < len(words); j++ {
			joined += words[j]
			if r.isSecretName(joined) {
				return true
			}
		}
	}
	return false
}

func (r Redactor) isSecretName(squashed string) bool {
	if defaultSecrets[squashed] {
		return true
	}
	for rest := r.extra; rest != ""; {
		var e string
		e, rest, _ = strings.Cut(rest, ",")
		if e == squashed {
			return true
		}
	}
	return false
}

// URL returns rawURL with its secrets replaced by xxxxx, for people to read:
// logs, errors, the CLI and the status pages. The user information as a
// whole becomes xxxxx, and so does the value of every secret query
// parameter (also in a fragment written as parameters, as OAuth's
// #access_token=...). Everything else is kept byte for byte, so a URL
// without secrets comes back unchanged. It works on text, not on a parsed
// URL, so that a URL Go cannot parse is redacted too.
func (r Redactor) URL(rawURL string) string {
	return r.rewrite(rawURL, false)
}

// Public returns rawURL without its secrets: no user information and no
// secret query parameters at all. It names a source in what feedmill
// publishes (Atom source ids and links, JSON Feed, RSS, OPML): unlike URL's
// xxxxx, which would invite readers to fetch a URL that cannot work, it is
// the address as anyone without the secrets knows it, and it stays the same
// when a secret rotates. A URL without secrets comes back unchanged.
func (r Redactor) Public(rawURL string) string {
	return r.rewrite(rawURL, true)
}

func (r Redactor) rewrite(s string, drop bool) string {
	rest, frag, hasFrag := strings.Cut(s, "#")
	head, query, hasQuery := strings.Cut(rest, "?")
	var b strings.Builder
	b.WriteString(r.authority(head, drop))
	if hasQuery {
		q := r.params(query, drop)
		if q != "" || !drop {
			b.WriteByte('?')
			b.WriteString(q)
		}
	}
	if hasFrag {
		// A fragment is not sent to the server, but OAuth-style
		// fragments carry tokens all the same.
		f := frag
		if strings.Contains(frag, "=") {
			f = r.params(frag, drop)
		}
		if f != "" || !drop {
			b.WriteByte('#')
			b.WriteString(f)
		}
	}
	return b.String()
}

// authority replaces or drops the user information of the part of a URL
// before its query.
func (r Redactor) authority(head string, drop bool) string {
	i := strings.Index(head, "//")
	if i < 0 {
		return head
	}
	start := i + 2
	end := len(head)
	if j := strings.IndexByte(head[start:], '/'); j >= 0 {
		end = start + j
	}
	at := strings.LastIndexByte(head[start:end], '@')
	if at < 0 {
		return head
	}
	user := Redacted + "@"
	if drop {
		user = ""
	}
	return head[:start] + user + head[start+at+1:]
}

// params redacts a query (or fragment) of &- or ;-separated parameters.
func (r Redactor) params(query string, drop bool) string {
	if query == "" {
		return ""
	}
	changed := false
	parts := splitParams(query)
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if name == "" || !r.IsSecretParam(name) {
			out = append(out, p)
			continue
		}
		changed = true
		if drop {
			continue
		}
		if hasValue {
			p = p[:strings.IndexByte(p, '=')+1] + Redacted
		}
		out = append(out, p)
	}
	if !changed {
		return query
	}
	return strings.Join(out, "&")
}

// splitParams splits a query at & and ; (both separate parameters in the
// wild), leaving out empty ones.
func splitParams(q string) []string {
	return strings.FieldsFunc(q, func(c rune) bool { return c == '&' || c == ';' })
}

// urlInText finds URLs inside free text: a scheme, "://", and everything up
// to a space, a quote or an angle bracket.
var urlInText = regexp.MustCompile("(?i)\\b[a-z][a-z0-9+.-]*://[^\\s\"'<>`]+")

// Text returns s with every URL in it redacted as URL does: for error
// messages, which name URLs in many ways (Go's *url.Error quotes the whole
// URL, query and all).
func (r Redactor) Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		// Punctuation after a URL belongs to the sentence ("fetch
		// http://h/f?token=t: timed out").
		trimmed := strings.TrimRight(u, ".,:;!?)]}")
		return r.URL(trimmed) + u[len(trimmed):]
	})
}

// Error returns err with its message redacted as Text does; errors.Is and
// errors.As still see err. A nil err gives nil, and an err whose message
// holds no secret is returned as it is.
func (r Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.Text(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// squash is a name as matched: lower case, without separators.
func squash(name string) string {
	return strings.Join(splitWords(name), "")
}

// splitWords cuts a parameter name into lower-case words at anything that
// is not a letter or a digit, and where a lower-case letter meets an upper
// case one (apiKey, clientSecret).
func splitWords(name string) []string {
	var words []string
	var cur strings.Builder
	prevLower := false
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for len(name) > 0 {
		c, size := utf8.DecodeRuneInString(name)
		name = name[size:]
		switch {
		case unicode.IsUpper(c):
			if prevLower {
				flush()
			}
			cur.WriteRune(unicode.ToLower(c))
			prevLower = false
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			cur.WriteRune(unicode.ToLower(c))
			prevLower = unicode.IsLower(c)
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}
