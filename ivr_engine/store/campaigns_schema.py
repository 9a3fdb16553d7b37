"""The tables of outbound calls and campaigns (`ivr_engine.campaigns`), in both dialects:
migration 4 (see `migrations`). Times are epoch seconds (REAL / DOUBLE PRECISION), ids
are text made by us, so no statement depends on a dialect's auto-increment or `RETURNING`.

Claiming is by lease: a runner sets `claimed_by` and `lease_until` on the contacts it takes;
rows whose lease ran out are free again. On SQLite (one writer) the claiming UPDATE is atomic
as it is; on PostgreSQL the same UPDATE takes its rows with `FOR UPDATE SKIP LOCKED`
(`CLAIM_POSTGRES`), so several processes never take the same contact.
"""

from __future__ import annotations

_TABLES = """
CREATE TABLE IF NOT EXISTS campaigns (
    name       TEXT PRIMARY KEY,
    flow_id    TEXT NOT NULL,
    status     TEXT NOT NULL,
    options    TEXT NOT NULL,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_contacts (
    campaign        TEXT NOT NULL,
    phone           TEXT NOT NULL,
    line            INTEGER NOT NULL,
    fields          TEXT NOT NULL,
    timezone        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {real} NOT NULL DEFAULT 0,
    outcome         TEXT NOT NULL DEFAULT '',
    answered_by     TEXT NOT NULL DEFAULT '',
    result          TEXT NOT NULL DEFAULT '{{}}',
    claimed_by      TEXT,
    lease_until     {real},
    updated_at      {real} NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, phone)
);
CREATE INDEX IF NOT EXISTS campaign_contacts_due
    ON campaign_contacts (campaign, status, next_attempt_at);
CREATE TABLE IF NOT EXISTS call_attempts (
    id          TEXT PRIMARY KEY,
    campaign    TEXT,
    phone       TEXT NOT NULL,
    number      INTEGER NOT NULL DEFAULT 1,
    flow_id     TEXT NOT NULL,
    from_number TEXT NOT NULL,
    vars        TEXT NOT NULL,
    status      TEXT NOT NULL,
    uncertain   INTEGER NOT NULL DEFAULT 0,
    call_sid    TEXT,
    answered_by TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    result      TEXT NOT NULL DEFAULT '{{}}',
    claimed_by  TEXT,
    placing_at  {real} NOT NULL,
    updated_at  {real} NOT NULL,
    UNIQUE (campaign, phone, number)
);
CREATE INDEX IF NOT EXISTS call_attempts_by_status ON call_attempts (status);
CREATE INDEX IF NOT EXISTS call_attempts_by_sid ON call_attempts (call_sid);
CREATE TABLE IF NOT EXISTS campaign_pace (
    key     TEXT PRIMARY KEY,
    next_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS do_not_call (
    number TEXT PRIMARY KEY,
    reason TEXT NOT NULL DEFAULT '',
    since  {real} NOT NULL
);
"""

SQLITE = _TABLES.format(real="REAL")
POSTGRES = _TABLES.format(real="DOUBLE PRECISION")

# Take up to `limit` due contacts of one campaign for `claimed_by` until `lease_until`.
# Parameters: claimed_by, lease_until, campaign, now, now, limit.
CLAIM_SQLITE = """
UPDATE campaign_contacts SET claimed_by = ?, lease_until = ?
WHERE campaign = ? AND phone IN (
    SELECT phone FROM campaign_contacts
    WHERE campaign = ? AND status = 'pending' AND next_attempt_at <= ?
      AND (lease_until IS NULL OR lease_until < ?)
    ORDER BY next_attempt_at, line
    LIMIT ?
)
"""
# PostgreSQL must pick the rows once, in a materialized CTE: as `phone IN (SELECT ... LIMIT n
# FOR UPDATE SKIP LOCKED)` the planner may run the subquery again for every row it updates
# (a nested-loop semi join), and each run skips the rows already locked, so a claim of 10
# took all 40 contacts (tests/outbound/test_store_backends.py). Same parameters, by number.
CLAIM_POSTGRES = """
WITH picked AS MATERIALIZED (
    SELECT phone FROM campaign_contacts
    WHERE campaign = ?4 AND status = 'pending' AND next_attempt_at <= ?5
      AND (lease_until IS NULL OR lease_until < ?6)
    ORDER BY next_attempt_at, line
    LIMIT ?7
    FOR UPDATE SKIP LOCKED
)
UPDATE campaign_contacts SET claimed_by = ?1, lease_until = ?2
FROM picked WHERE campaign_contacts.campaign = ?3 AND campaign_contacts.phone = picked.phone
"""
