package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema history. Steps are Go functions
// rather than bare SQL so that a later step can also rewrite data (for
// example recompute content hashes).
type migration func(ctx context.Context, tx *sql.Tx) error

// sqliteMigrations is the schema history of the SQLite store: step i
// brings PRAGMA user_version from i to i+1. Steps are only ever appended;
// a released step never changes, because databases in the field already
// ran it.
var sqliteMigrations = []migration{
	execAll(
		// Times are integer microseconds since the Unix epoch, UTC (see
		// toMicros). authors, categories and enclosures are JSON arrays,
		// NULL when empty. hash is contentHash of the stored content.
		`CREATE TABLE items (
			source     TEXT NOT NULL,
			id         TEXT NOT NULL,
			link       TEXT NOT NULL,
			title      TEXT NOT NULL,
			summary    TEXT NOT NULL,
			content    TEXT NOT NULL,
			authors    TEXT,
			categories TEXT,
			enclosures TEXT,
			published  INTEGER NOT NULL,
			updated    INTEGER NOT NULL,
			first_seen INTEGER NOT NULL,
			hash       BLOB NOT NULL,
			PRIMARY KEY (source, id)
		) STRICT`,
		// Both indexes follow the listing order exactly, so a listing
		// (and a LIMIT on it) walks an index instead of sorting.
		`CREATE INDEX items_by_source_date ON items (source, published DESC, first_seen DESC, id)`,
		`CREATE INDEX items_by_date ON items (published DESC, first_seen DESC, source, id)`,
		// Zero times are NULL.
		`CREATE TABLE source_state (
			name          TEXT PRIMARY KEY NOT NULL,
			etag          TEXT NOT NULL,
			last_modified TEXT NOT NULL,
			last_fetch    INTEGER,
			next_fetch    INTEGER,
			last_success  INTEGER,
			last_error    TEXT NOT NULL,
			last_status   INTEGER NOT NULL,
			feed_title    TEXT NOT NULL,
			feed_link     TEXT NOT NULL
		) STRICT`,
	),
	// 2: the URL a source's validators were obtained from.
	execAll(`ALTER TABLE source_state ADD COLUMN url TEXT NOT NULL DEFAULT ''`),
	// 3: clean articles. Items keep their canonical URL and their content
	// before boilerplate removal, with hidden_hash (see hiddenHash) over
	// them; its default, the empty blob, is the hash of three empty
	// fields, so stored rows need no rewrite. Sources keep the fingerprint
	// of the boilerplate their items were cleaned with and the key of the
	// extraction rules their items were made under. articles caches
	// full-text extractions by page and rules; fetched is in microseconds
	// like every time, and its index serves the pruning by age and count.
	execAll(
		`ALTER TABLE items ADD COLUMN canonical TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE items ADD COLUMN raw_summary TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE items ADD COLUMN raw_content TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE items ADD COLUMN hidden_hash BLOB NOT NULL DEFAULT x''`,
		`ALTER TABLE source_state ADD COLUMN furniture TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE source_state ADD COLUMN rules TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE articles (
			url       TEXT NOT NULL,
			rules_key TEXT NOT NULL,
			final_url TEXT NOT NULL,
			canonical TEXT NOT NULL,
			title     TEXT NOT NULL,
			content   TEXT NOT NULL,
			item_hash TEXT NOT NULL,
			err       TEXT NOT NULL,
			fetched   INTEGER NOT NULL,
			PRIMARY KEY (url, rules_key)
		) STRICT`,
		`CREATE INDEX articles_by_fetched ON articles (fetched)`,
	),
	// 4: when each source was first fetched (its older items are its
	// backlog), and WebSub: hub_subscriptions are the subscribers of our
	// own published feeds (the built-in hub), source_subscriptions our
	// subscriptions to the hubs of sources. Times are microseconds.
	execAll(
		`ALTER TABLE source_state ADD COLUMN first_success INTEGER`,
		// Sources fetched before this column existed: their first
		// success is not known, but their earliest stored item's first
		// sighting is the best estimate.
		`UPDATE source_state SET first_success =
			(SELECT min(first_seen) FROM items WHERE items.source = source_state.name)
			WHERE last_success IS NOT NULL`,
		`CREATE TABLE hub_subscriptions (
			topic    TEXT NOT NULL,
			callback TEXT NOT NULL,
			secret   TEXT NOT NULL,
			lease    INTEGER NOT NULL, -- seconds granted
			expires  INTEGER NOT NULL,
			created  INTEGER NOT NULL,
			PRIMARY KEY (topic, callback)
		) STRICT`,
		`CREATE INDEX hub_subscriptions_by_expiry ON hub_subscriptions (expires)`,
		`CREATE TABLE source_subscriptions (
			source   TEXT PRIMARY KEY NOT NULL,
			hub      TEXT NOT NULL,
			topic    TEXT NOT NULL,
			secret   TEXT NOT NULL,
			state    TEXT NOT NULL, -- requested | active | denied | unsubscribed
			lease    INTEGER NOT NULL,
			expires  INTEGER,
			updated  INTEGER NOT NULL,
			reason   TEXT NOT NULL
		) STRICT`,
	),
	// 5: politeness and feeds that move. failures counts a source's
	// consecutive failed attempts (its backoff); moved is where a
	// permanent redirect took its feed, discovered the feed found on its
	// page by autodiscovery; gone (0 or 1) marks a feed that answered 410.
	// The defaults describe every source stored before: healthy, unmoved.
	execAll(
		`ALTER TABLE source_state ADD COLUMN failures INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE source_state ADD COLUMN moved TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE source_state ADD COLUMN discovered TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE source_state ADD COLUMN gone INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1))`,
	),
	// 6: item counts per source, kept by SaveItems in the same
	// transaction, so that counting items does not step through all of
	// them (a million stored items made every rebuild count a million).
	execAll(
		`CREATE TABLE item_counts (
			source TEXT PRIMARY KEY NOT NULL,
			items  INTEGER NOT NULL
		) STRICT`,
		`INSERT INTO item_counts (source, items) SELECT source, count(*) FROM items GROUP BY source`,
	),
}

// execAll is a migration step running statements in order.
func execAll(stmts ...string) migration {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
}

// migrate brings the schema to len(steps) in one transaction: either every
// pending step applies or none does. The transaction takes the write lock
// before reading the version, so two processes opening a new file at once
// migrate it once. A database from a newer feedmill, with a version beyond
// the known steps, is refused rather than used with a schema this code does
// not know.
func (s *SQLite) migrate(ctx context.Context, steps []migration) error {
	var from int
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&from); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if from > len(steps) {
			return fmt.Errorf("schema version %d is newer than this program knows (%d)", from, len(steps))
		}
		for v := from; v < len(steps); v++ {
			if err := steps[v](ctx, tx); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		if from == len(steps) {
			return nil
		}
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if from < len(steps) {
		s.logger.InfoContext(ctx, "store schema migrated", "path", s.path, "from", from, "to", len(steps))
	}
	return nil
}
