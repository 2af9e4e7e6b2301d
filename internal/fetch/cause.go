package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/feedmill/feedmill/internal/feed"
)

// NetError is a failure to reach a server, or to get its whole answer,
// named in plain words: its cause's words (what happened, what to check),
// then Go's own text in parentheses for the details. Fetch returns every
// failure it can class so (see Cause); test for one with errors.As, or
// read its cause with Cause.
type NetError struct {
	Cause feed.Cause
	// What, when set, says what happened more exactly than the cause's
	// words do ("timed out after 30s"); the words' advice follows it.
	What string
	Err  error // Go's error, as it came
}

func (e *NetError) Error() string {
	words := e.Cause.Words()
	if e.What != "" {
		if _, advice, ok := strings.Cut(words, ": "); ok {
			words = e.What + ": " + advice
		} else {
			words = e.What
		}
	}
	return words + " (" + e.Err.Error() + ")"
}

func (e *NetError) Unwrap() error { return e.Err }

// redirectError is a redirect chain fetch refused to follow further: too
// long, or a loop. Its text says which.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// Cause classes err, an error of Fetch or FetchPage or one of Go's own
// from the network: a *NetError gives its cause, a *StatusError is
// feed.CauseHTTP, and Go's errors (a *net.DNSError, a refused or reset
// connection, x509 and TLS failures, a deadline, an unexpected EOF, too
// many redirects) get the cause they show. Our own cancellation, and
// anything else (a feed that does not parse), has the empty cause.
func Cause(err error) feed.Cause {
	if err == nil {
		return ""
	}
	if ne, ok := errors.AsType[*NetError](err); ok {
		return ne.Cause
	}
	if _, ok := errors.AsType[*StatusError](err); ok {
		return feed.CauseHTTP
	}
	return classify(err)
}

// Explain returns err with its cause's plain words in front (a *NetError
// wrapping err) when err is a network failure Cause can class; any other
// err, nil included, is returned as it is.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*NetError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*StatusError](err); ok {
		return err
	}
	if c := classify(err); c.Network() {
		return &NetError{Cause: c, Err: err}
	}
	return err
}

// classify looks at Go's errors in err's chain, the most telling first: a
// DNS failure can also be a timeout, and a TLS failure arrives inside an
// *net.OpError as a refused connection does.
func classify(err error) feed.Cause {
	if errors.Is(err, context.Canceled) {
		return "" // our own shutdown, not the server's doing
	}
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		if de.IsNotFound {
			return feed.CauseNoHost
		}
		return feed.CauseDNS
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return feed.CauseTLSUnknown
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return feed.CauseTLSHost
	}
	if ce, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		if ce.Reason == x509.Expired {
			return feed.CauseTLSExpired
		}
		return feed.CauseTLS
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return feed.CauseTLS
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return feed.CauseTLS
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return feed.CauseTLS
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return feed.CauseRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return feed.CauseUnreachable
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return feed.CauseReset
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return feed.CauseTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return feed.CauseClosed
	}
	if _, ok := errors.AsType[*redirectError](err); ok {
		return feed.CauseRedirects
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return feed.CauseTimeout
	}
	return ""
}
