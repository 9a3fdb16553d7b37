"""The queue call-back requests' table (`ivr_engine.callbacks`), in both dialects: migration 3."""

from __future__ import annotations

CALLBACKS_DDL_SQLITE = """
CREATE TABLE IF NOT EXISTS callback_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid     TEXT NOT NULL,
    step         INTEGER NOT NULL,
    flow_id      TEXT NOT NULL,
    node_id      TEXT NOT NULL,
    queue        TEXT NOT NULL,
    number       TEXT NOT NULL,
    waited       INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending',
    requested_at TEXT NOT NULL,
    UNIQUE (call_sid, step)
);
CREATE INDEX IF NOT EXISTS callback_requests_by_status ON callback_requests (status, id);
"""

CALLBACKS_DDL_POSTGRES = """
CREATE TABLE IF NOT EXISTS callback_requests (
    id           BIGSERIAL PRIMARY KEY,
    call_sid     TEXT NOT NULL,
    step         INTEGER NOT NULL,
    flow_id      TEXT NOT NULL,
    node_id      TEXT NOT NULL,
    queue        TEXT NOT NULL,
    number       TEXT NOT NULL,
    waited       INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending',
    requested_at TEXT NOT NULL,
    UNIQUE (call_sid, step)
);
CREATE INDEX IF NOT EXISTS callback_requests_by_status ON callback_requests (status, id);
"""
