package store

import (
	"context"
	"strings"
)

// dialect holds what differs between the drivers' SQL. Everything else is
// one statement that both run.
type dialect struct {
	// in is the condition that col is one of n >= 1 values; inArgs
	// returns the arguments it binds for them.
	in     func(col string, n int) string
	inArgs func(values []string) []any
	// itemsQuery lists the items of n >= 1 sources (see Items); its
	// arguments are inArgs(sources), the limit (noLimit for none) and
	// the offset.
	itemsQuery func(n int, noRaw, oldest bool) string
	noLimit    any
	// countQuery sums the item counts of n >= 1 sources; its arguments
	// are inArgs(sources).
	countQuery func(n int) string
	// loadStored reads what plan needs about the stored items of the
	// source ?.
	loadStored string
	// recentCounts counts the items of each source first seen at or
	// after ? (see RecentItemCounts).
	recentCounts string
	// pruneArticles deletes the articles beyond the newest keep ones and
	// reports how many it deleted.
	pruneArticles func(ctx context.Context, q querier, keep int64) (int64, error)
	// lockRows ends a SELECT whose rows the transaction then leases, so
	// that concurrent transactions skip them instead of waiting; empty
	// where a write transaction excludes every other writer anyway.
	lockRows string
	// lockSource serializes the transactions writing the items of the
	// source ?, empty where a write transaction excludes every other.
	lockSource string
	// bumpVersion increments the change counter (see Version) and, where
	// the driver has notifications, tells listeners at commit that items
	// changed: one statement, so one round trip to a server.
	bumpVersion string
}

// sqliteDialect is SQLite's SQL where it differs from PostgreSQL's.
var sqliteDialect = dialect{
	in: func(col string, n int) string { return col + " IN " + sourceList(n) },
	inArgs: func(values []string) []any {
		args := make([]any, len(values))
		for i, v := range values {
			args[i] = v
		}
		return args
	},
	itemsQuery:    itemsQuery,
	noLimit:       int64(-1), // SQLite: a negative limit is none
	countQuery:    countQuery,
	loadStored:    loadStoredQuery,
	recentCounts:  recentCountsQuery,
	pruneArticles: sqlitePruneArticles,
	bumpVersion:   bumpVersionSQL, // SQLite has no notifications
	// lockRows, lockSource: a write transaction holds the file's write
	// lock from its BEGIN IMMEDIATE on.
}

// postgresDialect is PostgreSQL's SQL where it differs from SQLite's.
// Several source names bind as one array, so a statement never varies
// with their number.
var postgresDialect = dialect{
	in: pgIn,
	inArgs: func(values []string) []any {
		if len(values) == 1 {
			return []any{values[0]}
		}
		return []any{values}
	},
	itemsQuery:    pgItemsQuery,
	noLimit:       nil, // PostgreSQL: LIMIT NULL is none
	countQuery:    pgCountQuery,
	loadStored:    pgLoadStoredQuery,
	recentCounts:  pgRecentCountsQuery,
	pruneArticles: pgPruneArticles,
	lockRows:      ` FOR UPDATE SKIP LOCKED`,
	// Two int4 keys: a key space apart from the one bigint key of the
	// migration lock. Names that hash alike only share a lock.
	lockSource: `SELECT pg_advisory_xact_lock(` + pgSourceLockClass + `, hashtext(?))`,
	// A data-modifying WITH always runs; the notification is sent once,
	// for the one row it returns, and delivered at commit.
	bumpVersion: `WITH bumped AS (` + bumpVersionSQL + ` RETURNING version)
	SELECT pg_notify('` + pgChannel + `', coalesce(current_schema(), '')) FROM bumped`,
}

// pgSourceLockClass is the first key of the advisory locks on sources
// ("feed" in ASCII).
const pgSourceLockClass = "1717921124"

// pgIn is the condition that col is one of n >= 1 values: a plain equality
// for one, which lets an index on col return rows in its order.
func pgIn(col string, n int) string {
	if n == 1 {
		return col + " = ?"
	}
	return col + " = ANY(?)"
}

// loadStoredQuery reads what plan needs about the stored items of a source.
const (
	loadStoredQuery = `SELECT id, published, updated, first_seen, hash, hidden_hash FROM items
	INDEXED BY items_by_source_date WHERE source = ?`
	pgLoadStoredQuery = `SELECT id, published, updated, first_seen, hash, hidden_hash FROM items
	WHERE source = ?`
)

// sourceList returns the placeholders of n >= 1 source names.
func sourceList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

// itemsQuery is the listing query for n >= 1 sources; its arguments are
// the names, then the limit and the offset. Both forms read an index in
// listing order (scanned backwards when oldest) and stop at the limit,
// instead of reading every selected row and sorting: one source walks its
// own slice of items_by_source_date; several walk the global items_by_date
// and skip rows of other sources, which costs little because a published
// feed usually selects most sources and reads only its newest items. An
// offset still steps over the rows it skips, in the index: archive pages
// pay for it once, when first rendered. INDEXED BY makes a missing index
// an error rather than a silent full sort.
func itemsQuery(n int, noRaw, oldest bool) string {
	order := ` ORDER BY published DESC, first_seen DESC, source, id LIMIT ? OFFSET ?`
	if oldest {
		order = ` ORDER BY published, first_seen, source DESC, id DESC LIMIT ? OFFSET ?`
	}
	cols := itemColumns
	if noRaw {
		cols = itemColumnsNoRaw
	}
	if n == 1 {
		return `SELECT ` + cols + ` FROM items INDEXED BY items_by_source_date
		WHERE source = ?` + order
	}
	return `SELECT ` + cols + ` FROM items INDEXED BY items_by_date
		WHERE source IN ` + sourceList(n) + order
}

// pgItemsQuery is itemsQuery for PostgreSQL: the same order, served by
// the same two indexes (PostgreSQL has no INDEXED BY: its planner picks
// them, see TestPostgresQueryPlans). The source and id columns collate
// as "C", so that names order by bytes as in SQLite whatever the
// database's locale.
func pgItemsQuery(n int, noRaw, oldest bool) string {
	order := ` ORDER BY published DESC, first_seen DESC, source, id LIMIT ? OFFSET ?`
	if oldest {
		order = ` ORDER BY published, first_seen, source DESC, id DESC LIMIT ? OFFSET ?`
	}
	cols := itemColumns
	if noRaw {
		cols = itemColumnsNoRaw
	}
	return `SELECT ` + cols + ` FROM items WHERE ` + pgIn("source", n) + order
}

// countQuery sums the kept item counts of n >= 1 sources (item_counts),
// one lookup in its primary key per source, without reading the items.
func countQuery(n int) string {
	return `SELECT coalesce(sum(items), 0) FROM item_counts WHERE source IN ` + sourceList(n)
}

// pgCountQuery is countQuery for PostgreSQL, where sum of a bigint is a
// numeric.
func pgCountQuery(n int) string {
	return `SELECT CAST(coalesce(sum(items), 0) AS BIGINT) FROM item_counts WHERE ` + pgIn("source", n)
}
