"""A per-sender pace: at most `rate` messages per second from each number or service.

Carriers throttle each sending number (a long code manages about one message a second), and
Twilio answers a burst with 20429/30429. Spacing sends evenly, in the order they ask, keeps
the worker under that line instead of bouncing off it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SenderPace:
    def __init__(self, rate: float, clock: Callable[[], float] | None = None) -> None:
        self.interval = 1.0 / rate
        self.clock = clock or (lambda: asyncio.get_running_loop().time())
        self._next: dict[str, float] = {}

    def reserve(self, sender: str) -> float:
        """Book the sender's next free slot; return how long to wait for it (seconds)."""
        now = self.clock()
        slot = max(now, self._next.get(sender, now))
        self._next[sender] = slot + self.interval
        return slot - now

    async def wait(self, sender: str) -> None:
        delay = self.reserve(sender)
        if delay > 0:
            await asyncio.sleep(delay)
