"""The application factory: settings in, a Starlette app out, with its lifespan.

The node-type registry is built when the app is created, so a broken plugin stops the server
before it serves anything. On startup it opens the database, the shared HTTP client node code
uses, loads the flows and starts the flow watcher; on shutdown it stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from ..calls import CallService
from ..flows import FlowRepository
from ..http_client import shared_http_client
from ..loader import FlowLoader
from ..project import project_registry
from ..registry import Registry
from ..runtime.services import Services, flow_environment
from ..store.database import Database
from ..store.sessions import SessionStore
from .routes import routes
from .settings import Settings
from .twilio_auth import TwilioSignatureMiddleware

log = logging.getLogger("ivr_engine.web")


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    settings.check()
    registry = registry or project_registry()  # a broken plugin stops us here, before serving
    loader = FlowLoader(registry)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.insecure and not settings.auth_token:
            log.warning(
                "INSECURE: no TWILIO_AUTH_TOKEN; requests are NOT checked to come from Twilio"
            )
        database = await Database.open(settings.db_path)
        flows = FlowRepository(loader, settings.flows_dir, database)
        await flows.reload()
        if not flows.ids():
            log.warning("no flows are being served from %s", settings.flows_dir)
        app.state.flows = flows
        app.state.database = database
        http = shared_http_client()
        services = Services(http=http, env=flow_environment(os.environ), flows=flows)
        app.state.calls = CallService(
            flows, SessionStore(database), url_prefix=settings.public_url or "", services=services
        )
        watcher = asyncio.create_task(
            flows.watch(settings.reload_interval), name="ivr-flow-watcher"
        )
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await http.aclose()
            await database.close()

    return Starlette(
        routes=routes,
        middleware=[Middleware(TwilioSignatureMiddleware, settings=settings)],
        lifespan=lifespan,
    )
