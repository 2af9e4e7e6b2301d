package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/feedmill/feedmill/internal/feed"
)

// The fetch history of a source is written by SaveState and SaveStates, in
// their transaction: a state recording a new attempt (a LastFetch other
// than the stored one) adds one row, and the rows beyond the newest
// fetchHistoryKeep of its source are deleted. That costs a few index
// lookups in a transaction that runs anyway, and no commit of its own.

// fetchHistoryKeep is how many attempts of each source the history keeps.
const fetchHistoryKeep = 50

// fromDurationMicros decodes a stored duration (see time.Duration.Microseconds).
func fromDurationMicros(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// lastFetchQuery reads, of n >= 1 named sources, the stored LastFetch and
// the fields published feeds show (see shown); its arguments are
// inArgs(names).
func (d *dialect) lastFetchQuery(n int) string {
	return `SELECT name, last_fetch, feed_title, feed_link, first_success FROM source_state WHERE ` + d.in("name", n)
}

// shown are the fields of a state that published documents show: the
// feed's title and link attribute its items, and the first success splits
// a source's backlog from its news. A state saved with other ones changes
// the feeds as surely as new items do.
type shown struct {
	title, link  string
	firstSuccess int64
}

func shownOf(st feed.SourceState) shown {
	return shown{st.FeedTitle, st.FeedLink, optionalTime(st.FirstSuccess)}
}

// shownChanged reports whether any state of sts shows other fields than
// the stored one of its name (a source without a stored state shows
// nothing yet).
func shownChanged(sts []feed.SourceState, stored map[string]shown) bool {
	for _, st := range sts {
		if shownOf(st) != stored[st.Name] {
			return true
		}
	}
	return false
}

// lastFetches returns the stored LastFetch, in microseconds, of the named
// states that have one, and the shown fields of every named state stored.
// sts is sorted by name.
func (e *engine) lastFetches(ctx context.Context, q querier, sts []feed.SourceState) (map[string]int64, map[string]shown, error) {
	names := make([]string, 0, len(sts))
	for _, st := range sts {
		names = append(names, st.Name)
	}
	names = slices.Compact(names)
	stored := make(map[string]int64, len(names))
	pub := make(map[string]shown, len(names))
	for chunk := range slices.Chunk(names, maxQuerySources) {
		rows, err := q.query(ctx, e.sql.lastFetchQuery(len(chunk)), e.sql.inArgs(chunk)...)
		if err != nil {
			return nil, nil, fmt.Errorf("read last fetch times: %w", err)
		}
		for rows.Next() {
			var name string
			var at, first sql.NullInt64
			var sh shown
			if err := rows.Scan(&name, &at, &sh.title, &sh.link, &first); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("read last fetch times: %w", err)
			}
			if at.Valid {
				stored[name] = at.Int64
			}
			if first.Valid {
				sh.firstSuccess = first.Int64
			}
			pub[name] = sh
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read last fetch times: %w", err)
		}
	}
	return stored, pub, nil
}

// newAttempts returns the states of sts that record a new attempt: a
// non-zero LastFetch other than the one before, which is the stored one
// (stored, as lastFetches returns it; newAttempts consumes it) or, for a
// repeated name, that of the previous state of the name in sts.
func newAttempts(sts []feed.SourceState, stored map[string]int64) []feed.SourceState {
	var out []feed.SourceState
	for _, st := range sts {
		if st.LastFetch.IsZero() {
			delete(stored, st.Name)
			continue
		}
		at := toMicros(st.LastFetch)
		if prev, ok := stored[st.Name]; ok && prev == at {
			continue
		}
		stored[st.Name] = at
		out = append(out, st)
	}
	return out
}

// The statements of the history. An attempt whose time is stored already
// (two handles saving the same state at once) is kept once. The pruning
// finds the newest row beyond the kept ones by walking the source's slice
// of the primary key from its newest end, and deletes it and every older
// row; usually that is one row, or none.
const (
	insertFetchSQL = `INSERT INTO fetches (source, at, duration, status, error, new, updated)
	VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (source, at) DO NOTHING`
	pruneFetchesSQL = `DELETE FROM fetches WHERE source = ? AND at <= (
	SELECT at FROM fetches WHERE source = ? ORDER BY at DESC LIMIT 1 OFFSET ?)`
	fetchesQuery = `SELECT at, duration, status, error, new, updated FROM fetches
	WHERE source = ? ORDER BY at DESC LIMIT ?`
)

// appendFetches appends the attempts the states record to their sources'
// histories and prunes those histories. sts is sorted by name, the order
// in which every transaction of the store takes the rows of sources. It
// returns how many attempts it appended.
func appendFetches(ctx context.Context, q querier, sts []feed.SourceState) (int, error) {
	if len(sts) == 0 {
		return 0, nil
	}
	if i, err := q.execEach(ctx, insertFetchSQL, len(sts), func(i int) []any {
		st := sts[i]
		return []any{st.Name, toMicros(st.LastFetch), st.LastDuration.Microseconds(),
			st.LastStatus, st.LastError, st.LastNew, st.LastUpdated}
	}); err != nil {
		if i >= 0 && i < len(sts) {
			return 0, fmt.Errorf("append fetch history of source %q: %w", sts[i].Name, err)
		}
		return 0, fmt.Errorf("append fetch history: %w", err)
	}
	sources := make([]string, 0, len(sts))
	for _, st := range sts {
		sources = append(sources, st.Name)
	}
	sources = slices.Compact(sources)
	if i, err := q.execEach(ctx, pruneFetchesSQL, len(sources), func(i int) []any {
		return []any{sources[i], sources[i], int64(fetchHistoryKeep)}
	}); err != nil {
		if i >= 0 && i < len(sources) {
			return 0, fmt.Errorf("prune fetch history of source %q: %w", sources[i], err)
		}
		return 0, fmt.Errorf("prune fetch history: %w", err)
	}
	return len(sts), nil
}

// Fetches returns the most recent fetch attempts of source, newest first:
// at most limit of them, or all those kept (the newest 50) when limit <= 0.
// Each is what the state recording it said: At is its LastFetch (UTC, to
// the microsecond), Duration its LastDuration (to the microsecond), Status,
// Err, New and Updated its LastStatus, LastError, LastNew and LastUpdated.
// A source without attempts has none; an empty source name is an error.
func (e *engine) Fetches(ctx context.Context, source string, limit int) ([]feed.Fetch, error) {
	if strings.TrimSpace(source) == "" {
		return nil, errors.New("list fetches: empty source name")
	}
	var lim any = int64(limit)
	if limit <= 0 {
		lim = e.sql.noLimit
	}
	rows, err := e.read.query(ctx, fetchesQuery, source, lim)
	if err != nil {
		return nil, fmt.Errorf("list fetches of source %q: %w", source, err)
	}
	defer rows.Close()
	var fetches []feed.Fetch
	for rows.Next() {
		var f feed.Fetch
		var at, duration int64
		if err := rows.Scan(&at, &duration, &f.Status, &f.Err, &f.New, &f.Updated); err != nil {
			return nil, fmt.Errorf("list fetches of source %q: %w", source, err)
		}
		f.At, f.Duration = fromMicros(at), fromDurationMicros(duration)
		fetches = append(fetches, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list fetches of source %q: %w", source, err)
	}
	return fetches, nil
}

// recentCountsQuery counts, per source, the items first seen at or after
// ?, reading only those in items_by_first_seen (which holds the source
// too, so the items themselves are not read). INDEXED BY makes a missing
// index an error rather than a silent scan of every item.
const (
	recentCountsQuery = `SELECT source, count(*) FROM items INDEXED BY items_by_first_seen
	WHERE first_seen >= ? GROUP BY source`
	pgRecentCountsQuery = `SELECT source, count(*) FROM items
	WHERE first_seen >= ? GROUP BY source`
)

// RecentItemCounts returns, for each source with stored items first seen
// at or after since, how many it has; sources without such items are not
// in the map. Items pruned since do not count. A zero since counts every
// stored item.
func (e *engine) RecentItemCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	if err := checkTime(since); err != nil {
		return nil, fmt.Errorf("count recent items: since: %w", err)
	}
	from := toMicros(minTime)
	if !since.IsZero() {
		from = toMicros(since)
	}
	rows, err := e.read.query(ctx, e.sql.recentCounts, from)
	if err != nil {
		return nil, fmt.Errorf("count recent items: %w", err)
	}
	defer rows.Close()
	counts := make(map[string]int)
	for rows.Next() {
		var source string
		var n int
		if err := rows.Scan(&source, &n); err != nil {
			return nil, fmt.Errorf("count recent items: %w", err)
		}
		counts[source] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count recent items: %w", err)
	}
	return counts, nil
}
