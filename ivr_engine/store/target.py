"""Which database a server uses: a SQLite file (the default) or a PostgreSQL URL.

`IVR_DATABASE_URL` / `--database` take `postgresql://user:pass@host:5432/db` (or
`postgres://`), or `sqlite:///path/file.sqlite3` (SQLAlchemy's spelling: a fourth slash makes
the path absolute); without them `IVR_DB` / `--db` names the SQLite file. A server on the same
machine can be reached through its Unix socket: `postgresql://user@/db?host=/var/run/postgresql`.
A URL's passwords (the one before `@` and a `password=` or `sslpassword=` parameter, as libpq
and asyncpg read them) are shown as `***` wherever the target is printed or logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

SQLITE, POSTGRESQL = "sqlite", "postgresql"
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})  # a URL's query may carry these
# PostgreSQL connections per server process: a step in progress holds one, also while its
# nodes wait on an API (IVR_DATABASE_POOL_SIZE)
POOL_SIZE = 20


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
    def secrets(self) -> list[str]:
        """The URL's passwords, as written and as decoded (an error message may hold either)."""
        return url_secrets(self.location) if self.kind == POSTGRESQL else []

    def scrub(self, text: str) -> str:
        """`text` (an error message, say) with this target's passwords replaced by `***`."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def __str__(self) -> str:
        return self.display


def _query_pairs(query: str) -> list[tuple[str, str, str]]:
    """The query's items as written: (name, "=" or "", value)."""
    return [item.partition("=") for item in query.split("&")]


def _is_secret(name: str) -> bool:
    return unquote(name) in SECRET_PARAMETERS


def _query_secrets(query: str) -> list[str]:
    """The values of the query's password parameters, as written (percent-encoded)."""
    return [value for name, _, value in _query_pairs(query) if _is_secret(name) and value]


def url_secrets(url: str) -> list[str]:
    """The passwords in `url`, each as written and percent-decoded."""
    try:
        parts = urlsplit(url)
        written = [parts.password] if parts.password else []
    except ValueError:
        return []
    written += _query_secrets(parts.query)
    decoded = {unquote(value) for value in written} | {unquote_plus(value) for value in written}
    return [value for value in set(written) | decoded if value]


def redact(url: str) -> str:
    """`url` with its passwords (before `@`, or `password=` in the query) replaced by `***`."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user = parts.username or ""
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            port = f":{parts.port}" if parts.port else ""
            netloc = f"{user}:***@{host}{port}"
    except ValueError:
        return "postgresql://(unreadable URL hidden: it may hold a password)"
    query = "&".join(
        f"{name}=***" if _is_secret(name) and sep else f"{name}{sep}{value}"
        for name, sep, value in _query_pairs(parts.query)
    )
    # built by hand: urlunsplit would drop the empty host of a Unix-socket URL (`postgresql:///db`)
    text = f"{parts.scheme}://{netloc}{parts.path}"
    text += f"?{query}" if parts.query else ""
    return text + (f"#{parts.fragment}" if parts.fragment else "")


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


async def open_database(
    target: DatabaseTarget, *, pool_size: int | None = None, **options: Any
) -> Any:
    """The store backend for `target`: `Database` (SQLite, given `options`) or
    `PostgresDatabase` (`pool_size` connections, `POOL_SIZE` when None)."""
    if target.kind == POSTGRESQL:
        from .postgres import PostgresDatabase

        return await PostgresDatabase.open(target, pool_size=pool_size or POOL_SIZE)
    from .database import Database

    return await Database.open(target.location, **options)
