"""The call history's tables, in both dialects: migration 2 (see `migrations`).

Kept apart from `history` (its reads and writes) so the migrations can import it without
importing the database module that imports them.
"""

from __future__ import annotations

from typing import Any

# Columns the history added to `sessions`: filled by every session upsert.
SESSION_COLUMNS = {
    "caller": "TEXT NOT NULL DEFAULT ''",
    "outcome": "TEXT NOT NULL DEFAULT ''",  # '' while live; 'completed' or 'failed' once ended
    "log": "TEXT",  # the latest step's log entry (JSON), copied into call_log by the trigger
}

SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS call_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid TEXT NOT NULL,
    flow_id  TEXT NOT NULL,
    step     INTEGER NOT NULL,
    at       TEXT NOT NULL,
    failed   INTEGER NOT NULL DEFAULT 0,
    data     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_log_by_call ON call_log (call_sid, id);
CREATE INDEX IF NOT EXISTS call_log_by_flow ON call_log (flow_id, at);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions (ended, updated_at);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (created_at);
CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_sid);
CREATE TRIGGER IF NOT EXISTS sessions_log_insert AFTER INSERT ON sessions
WHEN NEW.log IS NOT NULL
BEGIN
    INSERT INTO call_log (call_sid, flow_id, step, at, failed, data)
    VALUES (NEW.call_sid, NEW.flow_id, NEW.step, json_extract(NEW.log, '$.at'),
            json_extract(NEW.log, '$.error') IS NOT NULL, NEW.log);
END;
CREATE TRIGGER IF NOT EXISTS sessions_log_update AFTER UPDATE ON sessions
WHEN NEW.log IS NOT NULL
BEGIN
    INSERT INTO call_log (call_sid, flow_id, step, at, failed, data)
    VALUES (NEW.call_sid, NEW.flow_id, NEW.step, json_extract(NEW.log, '$.at'),
            json_extract(NEW.log, '$.error') IS NOT NULL, NEW.log);
END;
"""

POSTGRES_DDL = """
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS caller TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS log TEXT;
CREATE TABLE IF NOT EXISTS call_log (
    id       BIGSERIAL PRIMARY KEY,
    call_sid TEXT NOT NULL,
    flow_id  TEXT NOT NULL,
    step     INTEGER NOT NULL,
    at       TEXT NOT NULL,
    failed   INTEGER NOT NULL DEFAULT 0,
    data     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_log_by_call ON call_log (call_sid, id);
CREATE INDEX IF NOT EXISTS call_log_by_flow ON call_log (flow_id, at);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions (ended, updated_at);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions (created_at);
CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_sid);
CREATE OR REPLACE FUNCTION ivr_copy_session_log() RETURNS trigger AS $$
BEGIN
    INSERT INTO call_log (call_sid, flow_id, step, at, failed, data)
    VALUES (NEW.call_sid, NEW.flow_id, NEW.step, NEW.log::jsonb ->> 'at',
            CASE WHEN (NEW.log::jsonb -> 'error') IS NULL
                      OR jsonb_typeof(NEW.log::jsonb -> 'error') = 'null' THEN 0 ELSE 1 END,
            NEW.log);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS sessions_log ON sessions;
CREATE TRIGGER sessions_log AFTER INSERT OR UPDATE ON sessions
FOR EACH ROW WHEN (NEW.log IS NOT NULL) EXECUTE FUNCTION ivr_copy_session_log();
"""


async def apply_sqlite(connection: Any) -> None:
    """Add the history's columns to an existing `sessions` table, then its tables and triggers."""
    async with connection.execute("PRAGMA table_info(sessions)") as cursor:
        present = {row[1] for row in await cursor.fetchall()}
    for name, definition in SESSION_COLUMNS.items():
        if name not in present:
            await connection.execute(f"ALTER TABLE sessions ADD COLUMN {name} {definition}")
    await connection.executescript(SQLITE_DDL)
