"""Which database a server uses: a SQLite file (the default) or a PostgreSQL URL.

`IVR_DATABASE_URL` / `--database` take `postgresql://user:pass@host:5432/db` (or
`postgres://`), or `sqlite:///path/file.sqlite3` (SQLAlchemy's spelling: a fourth slash makes
the path absolute); without them `IVR_DB` / `--db` names the SQLite file. A URL's password
is shown as `***` wherever the target is printed or logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SQLITE, POSTGRESQL = "sqlite", "postgresql"


class BadDatabaseUrl(ValueError):
    """The setting names no database we can open; the message never holds the password."""


@dataclass(frozen=True)
class DatabaseTarget:
    kind: str
    location: str = field(repr=False)  # the SQLite path, or the whole PostgreSQL URL

    @property
    def display(self) -> str:
        return self.location if self.kind == SQLITE else redact(self.location)

    @property
    def password(self) -> str | None:
        return urlsplit(self.location).password if self.kind == POSTGRESQL else None

    def scrub(self, text: str) -> str:
        """`text` (an error message, say) with this target's password replaced by `***`."""
        password = self.password
        return text.replace(password, "***") if password else text

    def __str__(self) -> str:
        return self.display


def redact(url: str) -> str:
    """`url` with its password (if any) replaced by `***`."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
    except ValueError:
        return "postgresql://(unreadable URL hidden: it may hold a password)"


def parse_target(value: str) -> DatabaseTarget:
    if value.startswith(("postgresql://", "postgres://")):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise BadDatabaseUrl(
                f"the database URL {redact(value)} is not a valid PostgreSQL URL "
                "(postgresql://user:password@host:5432/database)"
            ) from None
        return DatabaseTarget(POSTGRESQL, value)
    if value.startswith("sqlite:///"):
        return DatabaseTarget(SQLITE, value[len("sqlite:///") :])
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise BadDatabaseUrl(
            f"the database URL scheme {scheme!r} is not supported: use postgresql://... or "
            "sqlite:///path/file.sqlite3"
        )
    return DatabaseTarget(SQLITE, value)


async def open_database(target: DatabaseTarget, **options: Any) -> Any:
    """The store backend for `target`: `Database` (SQLite) or `PostgresDatabase`."""
    if target.kind == POSTGRESQL:
        from .postgres import PostgresDatabase

        return await PostgresDatabase.open(target)
    from .database import Database

    return await Database.open(target.location, **options)
