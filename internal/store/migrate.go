package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// step is one version of the schema, for both drivers: step N (counted
// from 1) brings a database from version N-1 to N, and version N means the
// same tables, columns and meaning in SQLite and in PostgreSQL. Steps are
// Go functions rather than bare SQL so that a step can also rewrite data
// (for example recompute content hashes). Steps are only ever appended; a
// released step never changes, because databases in the field already ran
// it: the SQLite statements are byte for byte those of the release that
// introduced them.
//
// The PostgreSQL forms differ in types (BIGINT microseconds, BYTEA hashes,
// BOOLEAN flags), in collation (keys collate as "C", so that they order by
// bytes as in SQLite whatever the database's locale), and in
// articles_by_fetched, which holds the key since PostgreSQL has no rowid.
type step struct {
	name     string
	sqlite   migration
	postgres pgMigration
}

// migration is the SQLite form of a step, run inside the migrating
// transaction.
type migration func(ctx context.Context, tx *sql.Tx) error

// pgMigration is the PostgreSQL form of a step, run inside the migrating
// transaction.
type pgMigration func(ctx context.Context, tx pgx.Tx) error

// schemaSteps is the schema history of the store. SQLite records the
// version reached in PRAGMA user_version, PostgreSQL in the table
// feedmill_schema.
var schemaSteps = []step{
	{
		name: "items and source states",
		sqlite: execAll(
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
		postgres: pgExecAll(
			`CREATE TABLE items (
			source     TEXT COLLATE "C" NOT NULL,
			id         TEXT COLLATE "C" NOT NULL,
			link       TEXT NOT NULL,
			title      TEXT NOT NULL,
			summary    TEXT NOT NULL,
			content    TEXT NOT NULL,
			authors    TEXT,
			categories TEXT,
			enclosures TEXT,
			published  BIGINT NOT NULL,
			updated    BIGINT NOT NULL,
			first_seen BIGINT NOT NULL,
			hash       BYTEA NOT NULL,
			PRIMARY KEY (source, id)
		)`,
			`CREATE INDEX items_by_source_date ON items (source, published DESC, first_seen DESC, id)`,
			`CREATE INDEX items_by_date ON items (published DESC, first_seen DESC, source, id)`,
			`CREATE TABLE source_state (
			name          TEXT COLLATE "C" PRIMARY KEY,
			etag          TEXT NOT NULL,
			last_modified TEXT NOT NULL,
			last_fetch    BIGINT,
			next_fetch    BIGINT,
			last_success  BIGINT,
			last_error    TEXT NOT NULL,
			last_status   INTEGER NOT NULL,
			feed_title    TEXT NOT NULL,
			feed_link     TEXT NOT NULL
		)`,
		),
	},
	{
		// 2: the URL a source's validators were obtained from.
		name:     "source URL",
		sqlite:   execAll(`ALTER TABLE source_state ADD COLUMN url TEXT NOT NULL DEFAULT ''`),
		postgres: pgExecAll(`ALTER TABLE source_state ADD COLUMN url TEXT NOT NULL DEFAULT ''`),
	},
	{
		// 3: clean articles. Items keep their canonical URL and their content
		// before boilerplate removal, with hidden_hash (see hiddenHash) over
		// them; its default, the empty blob, is the hash of three empty
		// fields, so stored rows need no rewrite. Sources keep the fingerprint
		// of the boilerplate their items were cleaned with and the key of the
		// extraction rules their items were made under. articles caches
		// full-text extractions by page and rules; fetched is in microseconds
		// like every time, and its index serves the pruning by age and count.
		name: "clean articles",
		sqlite: execAll(
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
		postgres: pgExecAll(
			`ALTER TABLE items ADD COLUMN canonical TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE items ADD COLUMN raw_summary TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE items ADD COLUMN raw_content TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE items ADD COLUMN hidden_hash BYTEA NOT NULL DEFAULT ''::bytea`,
			`ALTER TABLE source_state ADD COLUMN furniture TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN rules TEXT NOT NULL DEFAULT ''`,
			`CREATE TABLE articles (
			url       TEXT COLLATE "C" NOT NULL,
			rules_key TEXT COLLATE "C" NOT NULL,
			final_url TEXT NOT NULL,
			canonical TEXT NOT NULL,
			title     TEXT NOT NULL,
			content   TEXT NOT NULL,
			item_hash TEXT NOT NULL,
			err       TEXT NOT NULL,
			fetched   BIGINT NOT NULL,
			PRIMARY KEY (url, rules_key)
		)`,
			`CREATE INDEX articles_by_fetched ON articles (fetched, url, rules_key)`,
		),
	},
	{
		// 4: when each source was first fetched (its older items are its
		// backlog), and WebSub: hub_subscriptions are the subscribers of our
		// own published feeds (the built-in hub), source_subscriptions our
		// subscriptions to the hubs of sources. Times are microseconds.
		name: "first success and WebSub",
		sqlite: execAll(
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
		postgres: pgExecAll(
			`ALTER TABLE source_state ADD COLUMN first_success BIGINT`,
			`UPDATE source_state SET first_success =
			(SELECT min(first_seen) FROM items WHERE items.source = source_state.name)
			WHERE last_success IS NOT NULL`,
			`CREATE TABLE hub_subscriptions (
			topic    TEXT COLLATE "C" NOT NULL,
			callback TEXT COLLATE "C" NOT NULL,
			secret   TEXT NOT NULL,
			lease    BIGINT NOT NULL, -- seconds granted
			expires  BIGINT NOT NULL,
			created  BIGINT NOT NULL,
			PRIMARY KEY (topic, callback)
		)`,
			`CREATE INDEX hub_subscriptions_by_expiry ON hub_subscriptions (expires)`,
			`CREATE TABLE source_subscriptions (
			source   TEXT COLLATE "C" PRIMARY KEY,
			hub      TEXT NOT NULL,
			topic    TEXT NOT NULL,
			secret   TEXT NOT NULL,
			state    TEXT NOT NULL, -- requested | active | denied | unsubscribed
			lease    BIGINT NOT NULL,
			expires  BIGINT,
			updated  BIGINT NOT NULL,
			reason   TEXT NOT NULL
		)`,
		),
	},
	{
		// 5: politeness and feeds that move. failures counts a source's
		// consecutive failed attempts (its backoff); moved is where a
		// permanent redirect took its feed, discovered the feed found on its
		// page by autodiscovery; gone (0 or 1) marks a feed that answered 410.
		// The defaults describe every source stored before: healthy, unmoved.
		name: "backoff and moved feeds",
		sqlite: execAll(
			`ALTER TABLE source_state ADD COLUMN failures INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE source_state ADD COLUMN moved TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN discovered TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN gone INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1))`,
		),
		postgres: pgExecAll(
			`ALTER TABLE source_state ADD COLUMN failures INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE source_state ADD COLUMN moved TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN discovered TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN gone BOOLEAN NOT NULL DEFAULT false`,
		),
	},
	{
		// 6: item counts per source, kept by SaveItems in the same
		// transaction, so that counting items does not step through all of
		// them (a million stored items made every rebuild count a million).
		name: "item counts",
		sqlite: execAll(
			`CREATE TABLE item_counts (
			source TEXT PRIMARY KEY NOT NULL,
			items  INTEGER NOT NULL
		) STRICT`,
			`INSERT INTO item_counts (source, items) SELECT source, count(*) FROM items GROUP BY source`,
		),
		postgres: pgExecAll(
			`CREATE TABLE item_counts (
			source TEXT COLLATE "C" PRIMARY KEY,
			items  BIGINT NOT NULL
		)`,
			`INSERT INTO item_counts (source, items) SELECT source, count(*) FROM items GROUP BY source`,
		),
	},
	{
		// 7: coordination of several instances. A source is leased to one
		// owner at a time by lease_owner ('' when free) and lease_until (a
		// time; NULL when free), which SaveState leaves alone; claims
		// leases other work by key (full-text fetches of an article).
		// changes holds the one counter Version reads, bumped with every
		// change of items.
		name: "leases and the change counter",
		sqlite: execAll(
			`ALTER TABLE source_state ADD COLUMN lease_owner TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN lease_until INTEGER`,
			`CREATE TABLE claims (
			key   TEXT PRIMARY KEY NOT NULL,
			owner TEXT NOT NULL,
			until INTEGER NOT NULL
		) STRICT`,
			`CREATE TABLE changes (
			id      INTEGER PRIMARY KEY CHECK (id = 1),
			version INTEGER NOT NULL
		) STRICT`,
			`INSERT INTO changes (id, version) VALUES (1, 0)`,
		),
		postgres: pgExecAll(
			`ALTER TABLE source_state ADD COLUMN lease_owner TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN lease_until BIGINT`,
			`CREATE TABLE claims (
			key   TEXT COLLATE "C" PRIMARY KEY,
			owner TEXT NOT NULL,
			until BIGINT NOT NULL
		)`,
			`CREATE TABLE changes (
			id      INTEGER PRIMARY KEY CHECK (id = 1),
			version BIGINT NOT NULL
		)`,
			`INSERT INTO changes (id, version) VALUES (1, 0)`,
		),
	},
	{
		// 8: fetch history. source_state keeps what the last attempt took
		// (last_duration, in microseconds) and brought (last_new,
		// last_updated); the defaults describe every state stored before as
		// unknown, zero. fetches keeps the last attempts of each source (see
		// fetchHistoryKeep), one row per attempt time: its primary key
		// serves both the listing, newest first, and the pruning. Items get
		// an index by first_seen, so that counting the items each source
		// brought lately reads only the recent ones.
		name: "fetch history",
		sqlite: execAll(
			`ALTER TABLE source_state ADD COLUMN last_duration INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE source_state ADD COLUMN last_new INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE source_state ADD COLUMN last_updated INTEGER NOT NULL DEFAULT 0`,
			// WITHOUT ROWID: the rows of a source lie together, in the
			// order they are read and pruned in.
			`CREATE TABLE fetches (
			source   TEXT NOT NULL,
			at       INTEGER NOT NULL,
			duration INTEGER NOT NULL,
			status   INTEGER NOT NULL,
			error    TEXT NOT NULL,
			new      INTEGER NOT NULL,
			updated  INTEGER NOT NULL,
			PRIMARY KEY (source, at)
		) STRICT, WITHOUT ROWID`,
			`CREATE INDEX items_by_first_seen ON items (first_seen, source)`,
		),
		postgres: pgExecAll(
			`ALTER TABLE source_state ADD COLUMN last_duration BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE source_state ADD COLUMN last_new INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE source_state ADD COLUMN last_updated INTEGER NOT NULL DEFAULT 0`,
			`CREATE TABLE fetches (
			source   TEXT COLLATE "C" NOT NULL,
			at       BIGINT NOT NULL,
			duration BIGINT NOT NULL,
			status   INTEGER NOT NULL,
			error    TEXT NOT NULL,
			new      INTEGER NOT NULL,
			updated  INTEGER NOT NULL,
			PRIMARY KEY (source, at)
		)`,
			`CREATE INDEX items_by_first_seen ON items (first_seen, source)`,
		),
	},
	{
		// 9: pages as sources. The article cache keeps what a page says
		// about its article: publication and update times (microseconds,
		// 0 for none) and the author, which date and credit the items a
		// web page listing yields.
		name: "article dates",
		sqlite: execAll(
			`ALTER TABLE articles ADD COLUMN published INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE articles ADD COLUMN updated INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE articles ADD COLUMN author TEXT NOT NULL DEFAULT ''`,
		),
		postgres: pgExecAll(
			`ALTER TABLE articles ADD COLUMN published BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE articles ADD COLUMN updated BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE articles ADD COLUMN author TEXT NOT NULL DEFAULT ''`,
		),
	},
	{
		// 10: who asked for each subscription of the built-in hub, and the
		// host its deliveries go to, which the hub's per-client and
		// per-callback-host limits count. Older rows have neither (''):
		// they count towards the global cap only, until renewed.
		name: "hub subscription owners",
		sqlite: execAll(
			`ALTER TABLE hub_subscriptions ADD COLUMN client TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE hub_subscriptions ADD COLUMN callback_host TEXT NOT NULL DEFAULT ''`,
		),
		postgres: pgExecAll(
			`ALTER TABLE hub_subscriptions ADD COLUMN client TEXT COLLATE "C" NOT NULL DEFAULT ''`,
			`ALTER TABLE hub_subscriptions ADD COLUMN callback_host TEXT COLLATE "C" NOT NULL DEFAULT ''`,
		),
	},
	{
		// 11: lead images. An item's picture (feed.Item.Image) and the one
		// its article page shows (feed.Article.Image), '' for none, which
		// is what every row stored before holds: the content hash covers
		// the image only when there is one (contentHash), so no stored
		// hash needs recomputing.
		name: "images",
		sqlite: execAll(
			`ALTER TABLE items ADD COLUMN image TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE articles ADD COLUMN image TEXT NOT NULL DEFAULT ''`,
		),
		postgres: pgExecAll(
			`ALTER TABLE items ADD COLUMN image TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE articles ADD COLUMN image TEXT NOT NULL DEFAULT ''`,
		),
	},
	{
		// 12: why a source failed and why its next attempt is when it is,
		// for the status pages: last_cause is the class of the last
		// failure (feed.Cause), next_reason what set next_fetch (the
		// schedule, cache hints, a backoff, a Retry-After, a host's
		// pause). Rows stored before know neither: empty.
		name: "failure causes and next reasons",
		sqlite: execAll(
			`ALTER TABLE source_state ADD COLUMN last_cause TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN next_reason TEXT NOT NULL DEFAULT ''`,
		),
		postgres: pgExecAll(
			`ALTER TABLE source_state ADD COLUMN last_cause TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE source_state ADD COLUMN next_reason TEXT NOT NULL DEFAULT ''`,
		),
	},
	{
		// 13: an item's raw content kept once. Until boilerplate is
		// learned for its source, an item's raw content is its content:
		// stored twice, it doubled what the items table holds and what
		// every save wrote (and compressed). raw_is_content (0 or 1)
		// marks a row whose raw content is its content; raw_content is
		// then ''. Rows stored before hold their raw content in full and
		// 0, which reads back the same.
		name: "raw content kept once",
		sqlite: execAll(
			`ALTER TABLE items ADD COLUMN raw_is_content INTEGER NOT NULL DEFAULT 0 CHECK (raw_is_content IN (0, 1))`,
		),
		postgres: pgExecAll(
			`ALTER TABLE items ADD COLUMN raw_is_content BOOLEAN NOT NULL DEFAULT false`,
		),
	},
}

// execAll is a SQLite step running statements in order.
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

// pgExecAll is a PostgreSQL step running statements in order.
func pgExecAll(stmts ...string) pgMigration {
	return func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
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
func (s *SQLite) migrate(ctx context.Context, steps []step) error {
	var from int
	err := s.transact(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&from); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if err := applySteps(from, steps, func(st step) error { return st.sqlite(ctx, tx) }); err != nil {
			return err
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

// applySteps applies, with apply, the steps after schema version from,
// refusing a version beyond them: a database from a newer feedmill, with a
// schema this code does not know.
func applySteps(from int, steps []step, apply func(step) error) error {
	if from > len(steps) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d)", from, len(steps))
	}
	for v := from; v < len(steps); v++ {
		if err := apply(steps[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return nil
}

// pgMigrationLock is the key of the advisory lock that serializes
// migrations ("feedmill" in ASCII): one bigint, a key space apart from the
// two-key locks on sources.
const pgMigrationLock int64 = 7378415046523186284

// migrate is the PostgreSQL migration: the same steps, in one transaction
// that first takes a transaction-level advisory lock, so that of several
// instances starting at once one migrates and the others then find the
// schema current. The version lives in feedmill_schema, created by the
// first migration; a database from a newer feedmill is refused.
func (p *Postgres) migrate(ctx context.Context, steps []step) error {
	var from int
	err := p.transact(ctx, func(tx pgx.Tx) error {
		from = 0
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS feedmill_schema (
			id      INTEGER PRIMARY KEY CHECK (id = 1),
			version INTEGER NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema version table: %w", err)
		}
		err := tx.QueryRow(ctx, `SELECT version FROM feedmill_schema WHERE id = 1`).Scan(&from)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("read schema version: %w", err)
		}
		if err := applySteps(from, steps, func(st step) error { return st.postgres(ctx, tx) }); err != nil {
			return err
		}
		if from == len(steps) {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO feedmill_schema (id, version) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version`, len(steps)); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if from < len(steps) {
		p.logger.InfoContext(ctx, "store schema migrated", "dsn", p.dsn, "from", from, "to", len(steps))
	}
	return nil
}
