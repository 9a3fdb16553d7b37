"""`GET /metrics`: the engine's metrics in Prometheus's text format.

The counters and histograms come from `ivr_engine.metrics` (added up over every process when
PROMETHEUS_MULTIPROC_DIR is set); the outbox depth is read from the database at scrape time,
so it is right whichever process queued or sent the messages. With IVR_METRICS_TOKEN set, a
scrape must carry `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..messaging.outbox import STATUSES


class _OutboxDepth:
    """The outbox depth as read at this scrape (a collector: no process-local gauge files)."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "ivr_outbox_messages", "Messages in the outbox, by state.", labels=["status"]
        )
        for status, count in self.counts.items():
            family.add_metric([status], count)
        yield family


def _authorized(request: Request, token: str | None) -> bool:
    if not token:
        return True
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def metrics_endpoint(request: Request) -> Response:
    settings = request.app.state.settings
    if not _authorized(request, settings.metrics_token):
        return PlainTextResponse(
            "a bearer token is required", 401, headers={"WWW-Authenticate": "Bearer"}
        )
    counts = {status: 0 for status in STATUSES}
    for row in await request.app.state.database.fetchall(
        "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status"
    ):
        counts[row["status"]] = int(row["n"])
    depth = CollectorRegistry()
    depth.register(_OutboxDepth(counts))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry) + generate_latest(depth)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
