"""One server process per SQLite file: a lock held on `<file>.lock` for the process lifetime.

The per-call locks and the session cache live in process memory, so a second process on the
same file would step calls from stale sessions and overwrite the first one's steps. The lock
is an advisory `flock` on a file beside the database (never on the database itself: closing
any other descriptor of a SQLite file drops SQLite's own POSIX locks). The kernel releases it
when the process dies, even by kill -9, so a crashed server never blocks the next one.

Within one process the lock is shared: `ivr serve` takes it before uvicorn starts (to refuse
a second process with one line, before any traceback) and the database takes it again when
it opens.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

_held: dict[str, list[int]] = {}  # real path of the lock file -> [descriptor, users]


class DatabaseInUse(Exception):
    """Another process holds the SQLite file: the message is the one line an operator sees."""


def lock_path(database: str | Path) -> Path:
    return Path(f"{database}.lock")


def acquire(database: str | Path) -> str:
    """Hold the lock of SQLite file `database` (shared within this process); return its key.

    Raises `DatabaseInUse` naming the file, and the other process's pid when it is known.
    """
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(path)
    entry = _held.get(key)
    if entry is not None:
        entry[1] += 1
        return key
    fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        by = f"another ivr server process (pid {holder})" if holder.isdigit() else "another process"
        raise DatabaseInUse(
            f"the SQLite database {database} is already in use by {by}: one SQLite file serves "
            "one server process; to run several server processes use PostgreSQL"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
    _held[key] = [fd, 1]
    return key


def release(key: str) -> None:
    entry = _held.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[key]
        os.close(entry[0])  # closing the descriptor drops the flock
