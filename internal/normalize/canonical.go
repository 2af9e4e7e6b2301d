package normalize

import (
	"net/url"
	"strings"
)

// builtinTrackingParams are the query parameters that only say how a reader
// got to a page (campaign tags, click ids, mailing-list ids, share ids),
// never which page it is. A trailing '*' makes a name a prefix. Names are
// compared without case.
//
// The list keeps to parameters that have one meaning everywhere: "ref" is
// matched as an exact name only, and short generic names such as "source",
// "from" or "id" are left alone, because on some site they select the
// article.
var builtinTrackingParams = []string{
	// Campaign tags: Google Analytics, Matomo/Piwik, internal campaigns.
	"utm_*", "mtm_*", "pk_*", "piwik_*", "itm_*",
	// Ad click ids.
	"fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid",
	"yclid", "twclid", "ttclid", "li_fat_id", "igshid", "epik", "srsltid",
	"_ga", "_gl",
	// Mailing lists and marketing automation.
	"mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp",
	"hsctatracking", "mkt_tok", "vero_id", "vero_conv", "oly_anon_id",
	"oly_enc_id", "__s", "ck_subscriber_id", "ml_subscriber",
	"ml_subscriber_hash", "rb_clickid", "wickedid", "_openstat",
	// Referrers and share ids.
	"ref", "ref_src", "ref_url", "spm", "smid", "smtyp", "sr_share",
	"fb_action_ids", "fb_action_types", "fb_ref", "fb_source",
	"action_object_map", "action_type_map", "action_ref_map",
	"__twitter_impression", "ocid", "ncid",
	// Analytics suites: Webtrends, AT Internet, comScore.
	"wt_mc", "wt.mc_id", "wt_zmc", "xtor", "at_medium", "at_campaign",
	"ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
	// Consent-wall round trips.
	"guccounter", "guce_referrer", "guce_referrer_sig",
}

// trackingParams decides whether a query parameter is a tracking one.
type trackingParams struct {
	exact    map[string]bool
	prefixes []string
}

// newTrackingParams builds the matcher from the built-in list and extra,
// the configured names (a trailing '*' means prefix). Blank names and a
// bare "*" (which would strip every parameter) are ignored.
func newTrackingParams(extra []string) *trackingParams {
	t := &trackingParams{exact: make(map[string]bool)}
	for _, list := range [][]string{builtinTrackingParams, extra} {
		for _, name := range list {
			name = strings.ToLower(strings.TrimSpace(name))
			switch {
			case name == "" || name == "*":
			case strings.HasSuffix(name, "*"):
				t.prefixes = append(t.prefixes, strings.TrimSuffix(name, "*"))
			default:
				t.exact[name] = true
			}
		}
	}
	return t
}

// match reports whether the (decoded) parameter name is a tracking one.
func (t *trackingParams) match(name string) bool {
	name = strings.ToLower(name)
	if t.exact[name] {
		return true
	}
	for _, p := range t.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// strip returns the raw query without its tracking parameters, the others
// kept in their order and spelling. Empty pairs ("a=1&&b=2") go too.
func (t *trackingParams) strip(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(name); err == nil {
			name = decoded
		}
		if t.match(name) {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&")
}

// Canonical returns the canonical form of rawURL, the key under which
// copies of one story are recognized across sources: tracking parameters
// removed, scheme and host lower-cased, the scheme's default port removed,
// fragment and empty query removed, an empty path made "/". The path and the
// order and spelling of the remaining parameters are kept as given: servers
// may treat "/A" and "/a", or "/a/" and "/a", as different pages.
//
// It returns "" for anything but an absolute http(s) URL with a host.
func (n *Normalizer) Canonical(rawURL string) string {
	u := n.cleanURL(rawURL)
	if u == nil {
		return ""
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// LinkKey returns the key under which a link a person gives is recognized
// as a stored item's: the link as Canonical makes it (tracking parameters,
// fragment, case of scheme and host and the default port do not count),
// and besides without its scheme and its path's trailing slash, so that
// http and https, "/a" and "/a/" are one link. It is for finding the item a
// person means (`feedmill explain`), never for telling stories apart:
// Canonical keeps those apart, since a server may serve different pages at
// them. It returns "" for anything but an absolute http(s) URL with a host.
func (n *Normalizer) LinkKey(rawURL string) string {
	u := n.cleanURL(rawURL)
	if u == nil {
		return ""
	}
	path := u.EscapedPath()
	if trimmed := strings.TrimRight(path, "/"); trimmed != "" {
		path = trimmed
	} else {
		path = "/"
	}
	key := "//" + u.Host + path
	if u.RawQuery != "" {
		key += "?" + u.RawQuery
	}
	return key
}

// stripTracking returns the absolute http(s) URL rawURL without its tracking
// parameters and with scheme, host and port normalized as Canonical does,
// but with its fragment kept: a link to "#comments" or "#section-2" points
// somewhere a reader wants to go. Anything else is returned unchanged.
func (n *Normalizer) stripTracking(rawURL string) string {
	u := n.cleanURL(rawURL)
	if u == nil {
		return rawURL
	}
	return u.String()
}

// cleanURL parses an absolute http(s) URL and normalizes all but its
// fragment; nil when rawURL is not one.
func (n *Normalizer) cleanURL(rawURL string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Opaque != "" {
		return nil
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil
	}
	host = strings.ToLower(host)
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if port == "" || (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		u.Host = host
	} else {
		u.Host = host + ":" + port
	}
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	u.RawQuery = n.tracking.strip(u.RawQuery)
	u.ForceQuery = false
	return u
}
