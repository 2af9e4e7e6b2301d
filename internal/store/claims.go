package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Coordination of several instances sharing one store. A lease gives one
// owner (an instance, named by the caller) a source, or any other piece of
// work named by a key, until a time: other owners leave it alone until the
// lease ends or is released. Leases are taken with the caller's clock
// (now), so instances need roughly agreeing clocks and leases much longer
// than their disagreement. A lease that outlives its holder (a crash) just
// expires.
//
// Source leases live in the source's row of source_state (lease_owner,
// lease_until), so that choosing the due sources and leasing them is one
// statement over one table; SaveState never touches them. Other leases
// live in claims.

// checkLease validates what every claim takes.
func checkLease(owner string, now time.Time, lease time.Duration) error {
	switch {
	case strings.TrimSpace(owner) == "":
		return errors.New("empty owner")
	case now.IsZero():
		return errors.New("zero time")
	case lease <= 0:
		return fmt.Errorf("lease %s is not positive", lease)
	}
	if err := checkTime(now); err != nil {
		return fmt.Errorf("now: %w", err)
	}
	if err := checkTime(now.Add(lease)); err != nil {
		return fmt.Errorf("end of lease: %w", err)
	}
	return nil
}

// newSourceSQL gives a source never seen an empty row, which a lease can
// then take; a row already there, or being inserted by another
// transaction, is left as it is.
const newSourceSQL = `INSERT INTO source_state
	(name, etag, last_modified, last_error, last_status, feed_title, feed_link)
	VALUES (?, '', '', '', 0, '', '')
	ON CONFLICT (name) DO NOTHING`

// leaseSQL leases the source ? to an owner until a time.
const leaseSQL = `UPDATE source_state SET lease_owner = ?, lease_until = ? WHERE name = ?`

// dueQuery selects, of n >= 1 named sources, at most ? that are due at ?
// and not leased to another owner than ? at ?, most overdue first; its
// arguments are inArgs(names), now, now, owner, limit. On PostgreSQL the
// selected rows are locked and rows locked by a concurrent claim skipped,
// so that two claims never wait for each other nor pick the same source.
func (d *dialect) dueQuery(n int) string {
	return `SELECT name FROM source_state WHERE ` + d.in("name", n) + `
	AND (next_fetch IS NULL OR next_fetch <= ?)
	AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)
	ORDER BY next_fetch NULLS FIRST, name LIMIT ?` + d.lockRows
}

// ClaimDue claims, for owner, up to limit of the named sources that are
// due at now (no state, or no NextFetch, or NextFetch at or before now)
// and not leased by another owner (no lease, or one ending at or before
// now, or one held by owner itself), and leases them until now+lease. It
// returns the claimed names, most overdue first: the never-fetched ones
// (without a NextFetch) first, ties by name. A repeated name counts once;
// no names or a zero limit claim nothing.
//
// Sources owner holds already are claimed again (their lease renewed)
// while they are due, and count towards limit, so a caller should leave
// out of names the sources it is still working on: until it saves their
// new state (a later NextFetch) or releases them, they stay due and would
// take the places of others.
//
// Choosing and leasing are one transaction: two claims never return the
// same source while its lease runs, whichever process makes them. On
// PostgreSQL concurrent claims do not wait for each other either (the
// candidates are chosen with FOR UPDATE SKIP LOCKED), except the first
// time a name is seen, when its empty state row is created: a source
// claimed before it was ever fetched lists in States with an empty state.
func (e *engine) ClaimDue(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration, limit int) ([]string, error) {
	if err := checkLease(owner, now, lease); err != nil {
		return nil, fmt.Errorf("claim due sources: %w", err)
	}
	if limit < 0 {
		return nil, fmt.Errorf("claim due sources: negative limit %d", limit)
	}
	if err := checkSources(names); err != nil {
		return nil, fmt.Errorf("claim due sources: %w", err)
	}
	if limit == 0 || len(names) == 0 {
		return nil, nil
	}
	names = lockOrder(names)
	nowM, until := toMicros(now), toMicros(now.Add(lease))
	var claimed []string
	err := e.write(ctx, func(q querier) error {
		claimed = claimed[:0]
		missing, err := e.unknownSources(ctx, q, names)
		if err != nil {
			return err
		}
		if i, err := q.execEach(ctx, newSourceSQL, len(missing), func(i int) []any {
			return []any{missing[i]}
		}); err != nil {
			if i >= 0 {
				return fmt.Errorf("create state of source %q: %w", missing[i], err)
			}
			return fmt.Errorf("create states: %w", err)
		}
		args := append(e.sql.inArgs(names), nowM, nowM, owner, int64(limit))
		if claimed, err = queryNames(ctx, q, "select due sources", e.sql.dueQuery(len(names)), args...); err != nil {
			return err
		}
		if i, err := q.execEach(ctx, leaseSQL, len(claimed), func(i int) []any {
			return []any{owner, until, claimed[i]}
		}); err != nil {
			if i >= 0 {
				return fmt.Errorf("lease source %q: %w", claimed[i], err)
			}
			return fmt.Errorf("lease sources: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim due sources for %s: %w", owner, err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	return claimed, nil
}

// unknownSources returns, in their order, the sorted names that have no
// state row.
func (e *engine) unknownSources(ctx context.Context, q querier, names []string) ([]string, error) {
	found, err := queryNames(ctx, q, "select known sources", `SELECT name FROM source_state WHERE `+e.sql.in("name", len(names)), e.sql.inArgs(names)...)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(found))
	for _, name := range found {
		known[name] = true
	}
	var missing []string
	for _, name := range names {
		if !known[name] {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

// Claim leases the source name to owner until now+lease, whether or not
// it is due, unless another owner holds a lease on it that ends after now;
// it reports whether owner got it. Owner's own lease is extended. A source
// without a state gets an empty one, as with ClaimDue.
func (e *engine) Claim(ctx context.Context, owner, name string, now time.Time, lease time.Duration) (bool, error) {
	if strings.TrimSpace(name) == "" {
		return false, errors.New("claim source: empty source name")
	}
	if err := checkLease(owner, now, lease); err != nil {
		return false, fmt.Errorf("claim source %q: %w", name, err)
	}
	var n int64
	err := e.write(ctx, func(q querier) error {
		var err error
		n, err = q.exec(ctx, claimSQL, name, owner, toMicros(now.Add(lease)), toMicros(now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim source %q for %s: %w", name, owner, err)
	}
	return n > 0, nil
}

// claimSQL leases the source ? to the owner ? until ? unless another
// owner's lease ends after ? (now); it changes a row when it leased.
const claimSQL = `INSERT INTO source_state
	(name, etag, last_modified, last_error, last_status, feed_title, feed_link, lease_owner, lease_until)
	VALUES (?, '', '', '', 0, '', '', ?, ?)
	ON CONFLICT (name) DO UPDATE SET
	lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
	WHERE source_state.lease_until IS NULL OR source_state.lease_until <= ?
	OR source_state.lease_owner = excluded.lease_owner`

// releaseSQL ends the owner ?'s lease on the source ?.
const releaseSQL = `UPDATE source_state SET lease_owner = '', lease_until = NULL
	WHERE name = ? AND lease_owner = ?`

// ClaimAll is Claim for several sources in one transaction: it leases to
// owner until now+lease each of names that no other owner holds an
// unexpired lease on, and returns those it leased, sorted, each once.
// A coordinated refresher claims the sources it is about to refresh
// together, with one commit instead of one each.
func (e *engine) ClaimAll(ctx context.Context, owner string, names []string, now time.Time, lease time.Duration) ([]string, error) {
	if err := checkLease(owner, now, lease); err != nil {
		return nil, fmt.Errorf("claim sources: %w", err)
	}
	if err := checkSources(names); err != nil {
		return nil, fmt.Errorf("claim sources: %w", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	names = lockOrder(names)
	nowM, until := toMicros(now), toMicros(now.Add(lease))
	var claimed []string
	err := e.write(ctx, func(q querier) error {
		claimed = claimed[:0]
		if i, err := q.execEach(ctx, claimSQL, len(names), func(i int) []any {
			return []any{names[i], owner, until, nowM}
		}); err != nil {
			if i >= 0 && i < len(names) {
				return fmt.Errorf("lease source %q: %w", names[i], err)
			}
			return fmt.Errorf("lease sources: %w", err)
		}
		// A source is owner's when this claim's lease is on it: taken
		// now, or owner's own one extended to the same end.
		args := append(e.sql.inArgs(names), owner, until)
		var err error
		claimed, err = queryNames(ctx, q, "select leased sources", `SELECT name FROM source_state WHERE `+e.sql.in("name", len(names))+
			` AND lease_owner = ? AND lease_until = ? ORDER BY name`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim sources for %s: %w", owner, err)
	}
	return claimed, nil
}

// Release ends owner's lease on the source name. It does nothing when
// owner holds no lease on it, as when another owner took it over after
// owner's lease ended.
func (e *engine) Release(ctx context.Context, owner, name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("release source: empty source name")
	}
	if strings.TrimSpace(owner) == "" {
		return fmt.Errorf("release source %q: empty owner", name)
	}
	err := e.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, releaseSQL, name, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("release source %q for %s: %w", name, owner, err)
	}
	return nil
}

// ClaimKey is Claim for any other work, named by key (for example
// "article:"+url for the full-text fetch of an article): it leases key to
// owner until now+lease unless another owner holds an unexpired lease on
// it, and reports whether owner got it. Key leases are apart from source
// leases: a key equal to a source name leases nothing of the source.
func (e *engine) ClaimKey(ctx context.Context, owner, key string, now time.Time, lease time.Duration) (bool, error) {
	if strings.TrimSpace(key) == "" {
		return false, errors.New("claim key: empty key")
	}
	if err := checkLease(owner, now, lease); err != nil {
		return false, fmt.Errorf("claim key %q: %w", key, err)
	}
	var n int64
	err := e.write(ctx, func(q querier) error {
		var err error
		n, err = q.exec(ctx, `INSERT INTO claims (key, owner, until) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until
			WHERE claims.until <= ? OR claims.owner = excluded.owner`,
			key, owner, toMicros(now.Add(lease)), toMicros(now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim key %q for %s: %w", key, owner, err)
	}
	return n > 0, nil
}

// ReleaseKey ends owner's lease on key, deleting it. It does nothing when
// owner holds no lease on it. A lease that is never released (its holder
// crashed) stays stored, expired, until the key is claimed again.
func (e *engine) ReleaseKey(ctx context.Context, owner, key string) error {
	if strings.TrimSpace(key) == "" {
		return errors.New("release key: empty key")
	}
	if strings.TrimSpace(owner) == "" {
		return fmt.Errorf("release key %q: empty owner", key)
	}
	err := e.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `DELETE FROM claims WHERE key = ? AND owner = ?`, key, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("release key %q for %s: %w", key, owner, err)
	}
	return nil
}

// lockOrder returns names sorted and without repeats, in a new slice: the
// one order in which every transaction of the store takes source rows
// (see SaveStates), so that two transactions never wait on each other.
func lockOrder(names []string) []string {
	names = slices.Clone(names)
	slices.Sort(names)
	return slices.Compact(names)
}
