//! The outbox schema: its migrations, run by the shared `sqlite-schema`
//! runner (the county platform's database uses the same machinery with its
//! own [`Schema`]).

use sqlite_schema::Schema;

/// The kiosk's outbox ("VKOB").
pub const OUTBOX: Schema = Schema {
    name: "outbox",
    application_id: 0x564B_4F42,
    migrations: &[V1, V2, V3],
};

/// The outbox schema version this program writes.
pub const LATEST: u32 = OUTBOX.latest();

/// Version 1: the sealed queue with its clear part, and the sync state.
const V1: &str = r#"
CREATE TABLE records (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id      TEXT NOT NULL UNIQUE,
    record_number  TEXT NOT NULL UNIQUE,
    state          TEXT NOT NULL CHECK (state IN ('signed','sent','accepted','rejected','superseded')),
    masked_id      TEXT NOT NULL,
    township_code  TEXT NOT NULL,
    township_name  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    signed_at      TEXT NOT NULL,
    sent_at        TEXT,
    reviewed_at    TEXT,
    reasons        TEXT,
    supersedes     TEXT,
    content_sha256 TEXT NOT NULL,
    sealed         BLOB NOT NULL
);
CREATE TABLE record_categories (
    record_seq INTEGER NOT NULL REFERENCES records(seq) ON DELETE CASCADE,
    code       INTEGER NOT NULL,
    PRIMARY KEY (record_seq, code)
) WITHOUT ROWID;
CREATE INDEX records_by_state ON records(state);
CREATE TABLE sync_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
);
"#;

/// Version 2: encrypted drafts for resuming a session, the back link of a
/// correction, indexes for the staff views, and the sealed bytes moved to
/// their own table so that listing and counting scan narrow rows.
const V2: &str = r#"
CREATE TABLE sealed_records (
    record_seq INTEGER PRIMARY KEY REFERENCES records(seq) ON DELETE CASCADE,
    sealed     BLOB NOT NULL
);
INSERT INTO sealed_records (record_seq, sealed) SELECT seq, sealed FROM records;
ALTER TABLE records DROP COLUMN sealed;
CREATE TABLE drafts (
    record_id  TEXT PRIMARY KEY,
    lookup_tag TEXT,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sealed     BLOB NOT NULL
);
CREATE INDEX drafts_by_lookup ON drafts(lookup_tag, updated_at);
ALTER TABLE records ADD COLUMN superseded_by TEXT;
DROP INDEX records_by_state;
CREATE INDEX records_by_state ON records(state, seq);
CREATE INDEX records_by_state_signed ON records(state, signed_at);
CREATE INDEX records_by_township ON records(township_code, township_name, state);
CREATE INDEX record_categories_by_code ON record_categories(code);
"#;

/// Version 3: the keyed look-up tag of the person's ID number on each
/// record (the drafts' tag, never the number), so that a record the county
/// returned is found again when the same card is read. Rows queued before
/// keep no tag and are not matched.
const V3: &str = r#"
ALTER TABLE records ADD COLUMN lookup_tag TEXT;
CREATE INDEX records_by_lookup ON records(lookup_tag, seq);
"#;
