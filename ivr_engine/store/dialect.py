"""Portable SQL: statements are written once, in SQLite's dialect, and translated for PostgreSQL.

Modules that store rows (sessions, outbox, consent, and those added later) write plain SQL with
`?` or `?N` placeholders, `ON CONFLICT ... DO UPDATE/NOTHING` and `excluded.`, which both
databases understand. The PostgreSQL backend rewrites the few SQLite-only spellings: the
placeholders to `$N`, the UTC timestamp expression used for `*_at` columns to the function
`ivr_now_text()` that the PostgreSQL schema defines, SQLite's two-argument scalar `max(a, b)`
to `greatest(a, b)`, and `json_extract(x, '$.key')` on JSON text to `(x::jsonb ->> 'key')`. DDL is not translated: each migration gives both dialects.
"""

from __future__ import annotations

import re
from functools import lru_cache

NOW_TEXT = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"  # what SQLite's schema and statements use
POSTGRES_NOW_TEXT = "ivr_now_text()"

# a quoted string, a numbered or bare placeholder, or SQLite's scalar two-argument max()
_JSON_EXTRACT = re.compile(r"json_extract\(([^,()]+), '\$\.(\w+)'\)")
_TOKEN = re.compile(r"'(?:[^']|'')*'|\?(\d*)|\bmax\(([^(),]+),([^(),]+)\)", re.IGNORECASE)


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """`sql` as PostgreSQL reads it; statements are constants, so the answer is cached."""
    sql = sql.replace(NOW_TEXT, POSTGRES_NOW_TEXT)
    sql = _JSON_EXTRACT.sub(r"(\1::jsonb ->> '\2')", sql)
    counter = 0

    def rewrite(match: re.Match[str]) -> str:
        nonlocal counter
        text = match.group(0)
        if text.startswith("'"):
            return text
        if text.startswith("?"):
            if match.group(1):
                return f"${match.group(1)}"
            counter += 1
            return f"${counter}"
        return f"greatest({match.group(2)},{match.group(3)})"

    return _TOKEN.sub(rewrite, sql)
