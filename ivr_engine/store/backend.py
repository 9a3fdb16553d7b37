"""What every store backend offers the modules that keep their rows in it.

`Database` (SQLite, `store.database`) and `PostgresDatabase` (`store.postgres`) both have this
shape; everything outside `store` is written against it and never against one of them.
Statements are the portable ones (`store.dialect`); a backend shared by several processes
(`shared`) also offers `call_lock(key)`, a lock held across processes (`store.sessions` uses it).
`fetchone(..., key_lookup=True)` says the statement finds a row by its key, which a backend
may answer by a faster path (SQLite: in the event loop's thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .database import Write


class Store(Protocol):
    shared: bool  # several processes use it: no call state may live in one process's memory
    dialect: str  # "sqlite" or "postgresql", for the few statements that differ

    @property
    def healthy(self) -> bool: ...

    async def fetchone(
        self, sql: str, params: Sequence[Any] = (), *, key_lookup: bool = False
    ) -> Any: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    async def write(self, *writes: Write, independent: bool = False) -> None: ...

    async def close(self) -> None: ...
