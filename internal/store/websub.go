package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// WebSub persistence: the subscribers of the built-in hub
// (hub_subscriptions) and our own subscriptions to the hubs of sources
// (source_subscriptions). Leases are stored in whole seconds, times in
// microseconds like every time of the store.

// leaseSeconds encodes a lease for storage, refusing what cannot be one.
func leaseSeconds(d time.Duration) (int64, error) {
	if d < 0 {
		return 0, fmt.Errorf("negative lease %s", d)
	}
	return int64(d / time.Second), nil
}

// namedTime is a time to check, with the name an error gives it.
type namedTime struct {
	name string
	t    time.Time
}

// checkTimes checks each time with checkTime.
func checkTimes(times ...namedTime) error {
	for _, nt := range times {
		if err := checkTime(nt.t); err != nil {
			return fmt.Errorf("%s: %w", nt.name, err)
		}
	}
	return nil
}

// checkHubSubscription validates a hub subscription before it is written.
// Expires and Created are required: a subscription without an end would
// never expire, and one without a start cannot say how old it is.
func checkHubSubscription(sub feed.HubSubscription) error {
	switch {
	case strings.TrimSpace(sub.Topic) == "":
		return errors.New("empty topic")
	case strings.TrimSpace(sub.Callback) == "":
		return errors.New("empty callback")
	case sub.Expires.IsZero():
		return errors.New("zero expiry time")
	case sub.Created.IsZero():
		return errors.New("zero creation time")
	}
	if _, err := leaseSeconds(sub.Lease); err != nil {
		return err
	}
	return checkTimes(namedTime{"expires", sub.Expires}, namedTime{"created", sub.Created})
}

// PutHubSubscription stores sub, replacing the subscription with the same
// Topic and Callback: its secret, lease and expiry are overwritten (a
// subscriber renewing its lease may change its secret), while the time it
// was first created is kept, and Client becomes the renewing one. Topic,
// Callback, Expires and Created must be
// set; Lease reads back truncated to whole seconds.
func (e *engine) PutHubSubscription(ctx context.Context, sub feed.HubSubscription) error {
	if err := checkHubSubscription(sub); err != nil {
		return fmt.Errorf("put hub subscription of %s to %s: %w", sub.Callback, sub.Topic, err)
	}
	lease, _ := leaseSeconds(sub.Lease) // checked above
	err := e.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `INSERT INTO hub_subscriptions
			(topic, callback, secret, lease, expires, created, client, callback_host)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (topic, callback) DO UPDATE SET
			secret = excluded.secret, lease = excluded.lease, expires = excluded.expires,
			client = excluded.client`,
			sub.Topic, sub.Callback, sub.Secret, lease, toMicros(sub.Expires), toMicros(sub.Created),
			sub.Client, sub.CallbackHost())
		return err
	})
	if err != nil {
		return fmt.Errorf("put hub subscription of %s to %s: %w", sub.Callback, sub.Topic, err)
	}
	return nil
}

// DeleteHubSubscription removes the subscription of callback to topic. A
// subscription that does not exist is not an error: the outcome is the
// same.
func (e *engine) DeleteHubSubscription(ctx context.Context, topic, callback string) error {
	err := e.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `DELETE FROM hub_subscriptions WHERE topic = ? AND callback = ?`, topic, callback)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete hub subscription of %s to %s: %w", callback, topic, err)
	}
	return nil
}

// HubSubscriptions returns the subscriptions to topic that have not expired
// at now (Expires after now), ordered by callback.
func (e *engine) HubSubscriptions(ctx context.Context, topic string, now time.Time) ([]feed.HubSubscription, error) {
	rows, err := e.read.query(ctx, `SELECT callback, secret, lease, expires, created, client
		FROM hub_subscriptions WHERE topic = ? AND expires > ? ORDER BY callback`,
		topic, toMicros(now))
	if err != nil {
		return nil, fmt.Errorf("list hub subscriptions to %s: %w", topic, err)
	}
	defer rows.Close()
	var subs []feed.HubSubscription
	for rows.Next() {
		sub := feed.HubSubscription{Topic: topic}
		var lease, expires, created int64
		if err := rows.Scan(&sub.Callback, &sub.Secret, &lease, &expires, &created, &sub.Client); err != nil {
			return nil, fmt.Errorf("list hub subscriptions to %s: %w", topic, err)
		}
		sub.Lease = time.Duration(lease) * time.Second
		sub.Expires, sub.Created = fromMicros(expires), fromMicros(created)
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list hub subscriptions to %s: %w", topic, err)
	}
	return subs, nil
}

// HubTopics returns the topics that have a subscription not expired at
// now, each once, in order: the documents the hub has readers for, which
// the publisher renders at each change to deliver them.
func (e *engine) HubTopics(ctx context.Context, now time.Time) ([]string, error) {
	return queryNames(ctx, e.read, "list hub topics", `SELECT DISTINCT topic FROM hub_subscriptions WHERE expires > ? ORDER BY topic`, toMicros(now))
}

// CountHubSubscriptions counts the subscriptions, to every topic, that
// have not expired at now (the hub's subscribers, for metrics).
func (e *engine) CountHubSubscriptions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	if err := e.read.queryRow(ctx, `SELECT count(*) FROM hub_subscriptions WHERE expires > ?`, toMicros(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count hub subscriptions: %w", err)
	}
	return int(n), nil
}

// HubSubscriptionCounts counts the subscriptions, to every topic, that
// have not expired at now: all of them, those client asked for, and those
// delivered to host (as HubSubscription.CallbackHost gives it). The hub
// weighs a new subscription against them.
func (e *engine) HubSubscriptionCounts(ctx context.Context, client, host string, now time.Time) (feed.HubCounts, error) {
	var total, byClient, byHost int64
	err := e.read.queryRow(ctx, `SELECT count(*),
		coalesce(sum(CASE WHEN client = ? THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN callback_host = ? THEN 1 ELSE 0 END), 0)
		FROM hub_subscriptions WHERE expires > ?`, client, host, toMicros(now)).Scan(&total, &byClient, &byHost)
	if err != nil {
		return feed.HubCounts{}, fmt.Errorf("count hub subscriptions of client %s and host %s: %w", client, host, err)
	}
	return feed.HubCounts{Total: int(total), Client: int(byClient), CallbackHost: int(byHost)}, nil
}

// ExpireHubSubscriptions deletes every subscription that has expired at
// now (Expires at or before now) and reports how many it deleted.
func (e *engine) ExpireHubSubscriptions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := e.write(ctx, func(q querier) error {
		var err error
		n, err = q.exec(ctx, `DELETE FROM hub_subscriptions WHERE expires <= ?`, toMicros(now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire hub subscriptions: %w", err)
	}
	return int(n), nil
}

// checkSourceSubscription validates a source subscription before it is
// written.
func checkSourceSubscription(sub feed.SourceSubscription) error {
	switch {
	case strings.TrimSpace(sub.Hub) == "":
		return errors.New("empty hub")
	case strings.TrimSpace(sub.Topic) == "":
		return errors.New("empty topic")
	case sub.Updated.IsZero():
		return errors.New("zero update time")
	}
	switch sub.State {
	case feed.SubscriptionRequested, feed.SubscriptionActive, feed.SubscriptionDenied, feed.SubscriptionUnsubscribed:
	default:
		return fmt.Errorf("unknown state %q", sub.State)
	}
	if _, err := leaseSeconds(sub.Lease); err != nil {
		return err
	}
	return checkTimes(namedTime{"expires", sub.Expires}, namedTime{"updated", sub.Updated})
}

// PutSourceSubscription stores sub, replacing every field of the
// subscription of the same source. Source, Hub, Topic, Updated and a known
// State must be set; Lease reads back truncated to whole seconds, a zero
// Expires reads back zero.
func (e *engine) PutSourceSubscription(ctx context.Context, sub feed.SourceSubscription) error {
	if strings.TrimSpace(sub.Source) == "" {
		return errors.New("put source subscription: empty source name")
	}
	if err := checkSourceSubscription(sub); err != nil {
		return fmt.Errorf("put subscription of source %q: %w", sub.Source, err)
	}
	lease, _ := leaseSeconds(sub.Lease) // checked above
	err := e.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `INSERT INTO source_subscriptions
			(source, hub, topic, secret, state, lease, expires, updated, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET
			hub = excluded.hub, topic = excluded.topic, secret = excluded.secret,
			state = excluded.state, lease = excluded.lease, expires = excluded.expires,
			updated = excluded.updated, reason = excluded.reason`,
			sub.Source, sub.Hub, sub.Topic, sub.Secret, sub.State, lease,
			nullMicros(sub.Expires), toMicros(sub.Updated), sub.Reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("put subscription of source %q: %w", sub.Source, err)
	}
	return nil
}

// sourceSubscriptionColumns are the columns scanSourceSubscription reads.
const sourceSubscriptionColumns = `source, hub, topic, secret, state, lease, expires, updated, reason`

func scanSourceSubscription(sc rowScanner) (feed.SourceSubscription, error) {
	var sub feed.SourceSubscription
	var lease, updated int64
	var expires sql.NullInt64
	if err := sc.Scan(&sub.Source, &sub.Hub, &sub.Topic, &sub.Secret, &sub.State,
		&lease, &expires, &updated, &sub.Reason); err != nil {
		return feed.SourceSubscription{}, err
	}
	sub.Lease = time.Duration(lease) * time.Second
	sub.Expires, sub.Updated = nullTime(expires), fromMicros(updated)
	return sub, nil
}

// SourceSubscription returns the subscription of source, and whether there
// is one.
func (e *engine) SourceSubscription(ctx context.Context, source string) (feed.SourceSubscription, bool, error) {
	sub, err := scanSourceSubscription(e.read.queryRow(ctx, `SELECT `+sourceSubscriptionColumns+`
		FROM source_subscriptions WHERE source = ?`, source))
	if isNoRows(err) {
		return feed.SourceSubscription{}, false, nil
	}
	if err != nil {
		return feed.SourceSubscription{}, false, fmt.Errorf("get subscription of source %q: %w", source, err)
	}
	return sub, true, nil
}

// SourceSubscriptions returns every source subscription, in any state,
// ordered by source name.
func (e *engine) SourceSubscriptions(ctx context.Context) ([]feed.SourceSubscription, error) {
	rows, err := e.read.query(ctx, `SELECT `+sourceSubscriptionColumns+`
		FROM source_subscriptions ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("list source subscriptions: %w", err)
	}
	defer rows.Close()
	var subs []feed.SourceSubscription
	for rows.Next() {
		sub, err := scanSourceSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("list source subscriptions: %w", err)
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list source subscriptions: %w", err)
	}
	return subs, nil
}
