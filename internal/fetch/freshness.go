package fetch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDeltaSeconds is the largest delta-seconds value taken at face value;
// RFC 9111 §1.2.2 says to treat larger ones as this (about 68 years).
const maxDeltaSeconds = 1 << 31

// freshness returns how long from now a response with header h stays fresh
// (RFC 9111 §4.2, as a shared cache): s-maxage, else max-age, else Expires
// minus Date (minus now when Date is absent or invalid), less Age. It
// returns zero for no-store, an unqualified no-cache, an invalid lifetime,
// a past Expires, or no lifetime at all. now is the time the response
// arrived.
func freshness(h http.Header, now time.Time) time.Duration {
	var maxAge, sMaxAge string
	var hasMaxAge, hasSMaxAge bool
	for _, field := range h.Values("Cache-Control") {
		for dir := range strings.SplitSeq(field, ",") {
			name, value, _ := strings.Cut(dir, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch name {
			case "no-store":
				return 0
			case "no-cache":
				// With field names (no-cache="Set-Cookie") it only keeps
				// those fields from being reused; the response stays
				// fresh.
				if value == "" {
					return 0
				}
			case "max-age":
				// The first of duplicates counts (RFC 9111 §4.2.1).
				if !hasMaxAge {
					maxAge, hasMaxAge = value, true
				}
			case "s-maxage":
				if !hasSMaxAge {
					sMaxAge, hasSMaxAge = value, true
				}
			}
		}
	}

	var lifetime time.Duration
	switch {
	case hasSMaxAge:
		lifetime = deltaSeconds(sMaxAge)
	case hasMaxAge:
		lifetime = deltaSeconds(maxAge)
	case h.Get("Expires") != "":
		// An invalid Expires ("0", "-1") means already expired (§5.3).
		expires, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0
		}
		base := now
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			base = date
		}
		lifetime = expires.Sub(base)
	default:
		return 0
	}
	if age := deltaSeconds(h.Get("Age")); age > 0 {
		lifetime -= age
	}
	return max(lifetime, 0)
}

// deltaSeconds reads a delta-seconds value (RFC 9111 §1.2.2): digits only.
// Anything else, including a sign or a fraction, gives zero, which makes
// an invalid max-age mean stale, as §4.2.1 asks.
func deltaSeconds(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > maxDeltaSeconds {
		// Only overflow fails once the value is all digits.
		n = maxDeltaSeconds
	}
	return time.Duration(n) * time.Second
}
