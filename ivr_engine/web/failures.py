"""How a webhook that failed says so in the log: once, naming what it was about."""

from __future__ import annotations

import logging
import sys

from ..store.database import DatabaseUnavailable

log = logging.getLogger("ivr_engine.web")


def log_failure(about: str, what: str) -> None:
    """Log the exception being handled as "`about`: `what` failed".

    An unavailable database gets one line with its reason: while it is down every request
    fails the same way, and a traceback for each would bury the log. Anything else gets its
    traceback.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseUnavailable):
        log.error("%s: %s failed: %s", about, what, error)
    else:
        log.exception("%s: %s failed", about, what)
