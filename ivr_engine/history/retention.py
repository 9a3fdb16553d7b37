"""Retention: ended calls, their logs and finished messages go after IVR_RETENTION_DAYS.

A background task of the server prunes in small batches (`store.history.prune`), each its own
short write with a pause after it, so webhooks never wait behind a long delete. Nothing of a
live call is pruned, however old. Studio keeps executions 30 days; so do we by default.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ..store.backend import Store
from ..store.history import prune

log = logging.getLogger("ivr_engine.history")

DEFAULT_DAYS = 30.0
DEFAULT_INTERVAL = 3600.0  # seconds between two prunings


async def prune_once(
    database: Store, days: float, now: datetime | None = None, pause: float = 0.05
) -> dict[str, int]:
    before = (now or datetime.now(UTC)) - timedelta(days=days)
    counts = await prune(database, before, pause=pause)
    if any(counts.values()):
        log.info(
            "retention: pruned %d ended call(s) and %d finished message(s) older than %g day(s)",
            counts["calls"],
            counts["messages"],
            days,
        )
    return counts


async def keep_pruning(
    database: Store,
    days: float,
    interval: float = DEFAULT_INTERVAL,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Prune now and then every `interval` seconds, until cancelled; 0 days keeps everything."""
    if days <= 0:
        return
    while True:
        try:
            await prune_once(database, days, clock() if clock else None)
        except Exception:  # the task must outlive a failed round (a locked file, a full disk)
            log.exception("retention: pruning failed; trying again in %g s", interval)
        await asyncio.sleep(interval)
