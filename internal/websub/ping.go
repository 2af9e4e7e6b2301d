package websub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Ping tells the external hub at hubURL that each of topics has new
// content, with one POST of hub.mode=publish&hub.url=TOPIC per topic: the
// publish request is not part of the WebSub Recommendation, and this is
// the form every public hub accepts, whereas several values of hub.url in
// one request are not. Every topic is tried; the error joins the failures,
// each naming the hub, the topic and the status or cause. A nil client
// means one with a 15 s timeout.
func Ping(ctx context.Context, client *http.Client, hubURL string, topics ...string) error {
	if err := checkHTTPURL(hubURL); err != nil {
		return fmt.Errorf("ping hub: %w", err)
	}
	client = defaultClient(client)
	var errs []error
	for _, topic := range topics {
		form := url.Values{paramMode: {modePublish}, paramURL: {topic}}
		if err := postForm(ctx, client, defaultUserAgent, hubURL, form); err != nil {
			errs = append(errs, fmt.Errorf("ping hub %s about %s: %w", hubURL, topic, err))
			if ctx.Err() != nil {
				break // the rest would fail the same way
			}
		}
	}
	return errors.Join(errs...)
}
