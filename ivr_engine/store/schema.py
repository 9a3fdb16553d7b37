"""The schema of the first release, in both dialects: migration 1 (see `migrations`).

SQLite's DDL is the one databases were created with before migrations were numbered, written
so that applying it to such a database changes nothing but what is missing (tables, indexes,
and the outbox columns added in place since). PostgreSQL's is the same tables in its types,
plus `ivr_now_text()`, the UTC text timestamp that portable statements use (see `dialect`),
and the outbox's claim columns (`claimed_by`, `lease_until`) that several workers need.
"""

from __future__ import annotations

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    call_sid     TEXT PRIMARY KEY,
    flow_id      TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    step         INTEGER NOT NULL,
    ended        INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS flow_versions (
    flow_id   TEXT NOT NULL,
    version   TEXT NOT NULL,
    file      TEXT NOT NULL,
    source    TEXT NOT NULL,
    loaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (flow_id, version)
);
CREATE TABLE IF NOT EXISTS call_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS call_events_by_call ON call_events (call_sid);
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    call_sid        TEXT NOT NULL,
    flow_id         TEXT NOT NULL,
    node_id         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS outbox_by_status ON outbox (status);
CREATE TABLE IF NOT EXISTS outbox_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL,
    status    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS outbox_events_by_row ON outbox_events (outbox_id);
CREATE TABLE IF NOT EXISTS message_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_sid TEXT NOT NULL,
    status      TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    error_code  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (message_sid, status)
);
CREATE TABLE IF NOT EXISTS suppressions (
    number  TEXT NOT NULL,
    channel TEXT NOT NULL,
    active  INTEGER NOT NULL,
    source  TEXT NOT NULL,
    since   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (number, channel)
);
CREATE TABLE IF NOT EXISTS consent_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    action      TEXT NOT NULL,
    source      TEXT NOT NULL,
    message_sid TEXT UNIQUE,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS consent_events_by_number ON consent_events (number, channel);
CREATE TABLE IF NOT EXISTS whatsapp_windows (
    number          TEXT PRIMARY KEY,
    last_inbound_at REAL NOT NULL
);
"""

# Columns the messaging outbox added to `outbox` after its first release: added in place to
# databases created before, so upgrading never needs a manual migration.
OUTBOX_COLUMNS = {
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "next_attempt_at": "REAL NOT NULL DEFAULT 0",
    "last_attempt_at": "REAL",
    "uncertain": "INTEGER NOT NULL DEFAULT 0",
    "reason": "TEXT NOT NULL DEFAULT ''",
    "error_code": "TEXT NOT NULL DEFAULT ''",
    "message_sid": "TEXT",
    "delivery": "TEXT NOT NULL DEFAULT ''",
    "updated_at": "TEXT",
}
OUTBOX_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_sid ON outbox (message_sid);
CREATE INDEX IF NOT EXISTS outbox_by_recipient ON outbox (recipient);
"""


async def sqlite_schema(connection: aiosqlite.Connection) -> None:
    """Migration 1 on SQLite: the tables, then the outbox columns a database may lack."""
    await connection.executescript(SCHEMA)
    async with connection.execute("PRAGMA table_info(outbox)") as cursor:
        present = {row[1] for row in await cursor.fetchall()}
    for name, definition in OUTBOX_COLUMNS.items():
        if name not in present:
            await connection.execute(f"ALTER TABLE outbox ADD COLUMN {name} {definition}")
    await connection.executescript(OUTBOX_INDEXES)


POSTGRES_SCHEMA = """
CREATE FUNCTION ivr_now_text() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
CREATE TABLE sessions (
    call_sid     TEXT PRIMARY KEY,
    flow_id      TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    step         INTEGER NOT NULL,
    ended        INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT ivr_now_text(),
    updated_at   TEXT NOT NULL DEFAULT ivr_now_text()
);
CREATE TABLE flow_versions (
    flow_id   TEXT NOT NULL,
    version   TEXT NOT NULL,
    file      TEXT NOT NULL,
    source    TEXT NOT NULL,
    loaded_at TEXT NOT NULL DEFAULT ivr_now_text(),
    PRIMARY KEY (flow_id, version)
);
CREATE TABLE call_events (
    id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    call_sid  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    at        TEXT NOT NULL DEFAULT ivr_now_text()
);
CREATE INDEX call_events_by_call ON call_events (call_sid);
CREATE TABLE outbox (
    id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    call_sid        TEXT NOT NULL,
    flow_id         TEXT NOT NULL,
    node_id         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      TEXT NOT NULL DEFAULT ivr_now_text(),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_attempt_at DOUBLE PRECISION,
    uncertain       INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    error_code      TEXT NOT NULL DEFAULT '',
    message_sid     TEXT,
    delivery        TEXT NOT NULL DEFAULT '',
    updated_at      TEXT,
    claimed_by      TEXT,
    lease_until     DOUBLE PRECISION
);
CREATE INDEX outbox_by_status ON outbox (status);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_sid ON outbox (message_sid);
CREATE INDEX outbox_by_recipient ON outbox (recipient);
CREATE TABLE outbox_events (
    id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    outbox_id BIGINT NOT NULL,
    status    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL DEFAULT ivr_now_text()
);
CREATE INDEX outbox_events_by_row ON outbox_events (outbox_id);
CREATE TABLE message_events (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    message_sid TEXT NOT NULL,
    status      TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    error_code  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL,
    at          TEXT NOT NULL DEFAULT ivr_now_text(),
    UNIQUE (message_sid, status)
);
CREATE TABLE suppressions (
    number  TEXT NOT NULL,
    channel TEXT NOT NULL,
    active  INTEGER NOT NULL,
    source  TEXT NOT NULL,
    since   TEXT NOT NULL DEFAULT ivr_now_text(),
    PRIMARY KEY (number, channel)
);
CREATE TABLE consent_events (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    action      TEXT NOT NULL,
    source      TEXT NOT NULL,
    message_sid TEXT UNIQUE,
    at          TEXT NOT NULL DEFAULT ivr_now_text()
);
CREATE INDEX consent_events_by_number ON consent_events (number, channel);
CREATE TABLE whatsapp_windows (
    number          TEXT PRIMARY KEY,
    last_inbound_at DOUBLE PRECISION NOT NULL
);
"""
