"""The application factory: settings in, a Starlette app out, with its lifespan.

The node-type registry is built when the app is created, so a broken plugin stops the server
before it serves anything. On startup it opens the database, the shared HTTP client node code
uses, loads the flows, starts the flow watcher and the outbox worker; on shutdown it stops them
in reverse order (the worker first lets requests in flight finish).
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
from starlette.routing import Mount, Route

from ..callbacks import CallbackStore
from ..calls import CallService
from ..campaigns.runner import CampaignRunner
from ..campaigns.service import Campaigns
from ..campaigns.store import OutboundStore
from ..flows import FlowRepository
from ..history import context as log_context
from ..history.log import Secrets, env_secrets
from ..history.retention import keep_pruning
from ..http_client import shared_http_client
from ..loader import FlowLoader
from ..messaging import (
    ConsentStore,
    InboundHandler,
    OutboxStore,
    OutboxWorker,
    StatusStore,
    TwilioSender,
    WindowStore,
)
from ..outbound.dialer import TwilioDialer
from ..outbound.service import OutboundCalls
from ..project import project_registry
from ..registry import Registry
from ..runtime.services import Services, flow_environment
from ..store.backend import Store
from ..store.sessions import SessionStore
from ..store.target import open_database
from ..verify import VerifyClient
from .api import api_routes
from .messaging_webhooks import messaging_webhooks
from .metrics import metrics_endpoint
from .outbound_webhooks import outbound_webhooks
from .settings import Settings
from .voice_webhooks import routes, voice_webhooks
from .webhooks import TwilioWebhooks

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
        database = await open_database(
            settings.database(),
            synchronous=settings.sqlite_synchronous,
            pool_size=settings.database_pool_size,
        )
        flows = FlowRepository(loader, settings.flows_dir, database)
        await flows.reload()
        if not flows.ids():
            log.warning("no flows are being served from %s", settings.flows_dir)
        outbox = OutboxStore(database, settings.messaging)
        consent, window = ConsentStore(database), WindowStore(database)
        app.state.outbox = outbox
        app.state.flows = flows
        app.state.database = database
        app.state.settings = settings
        http = shared_http_client()
        verify = _verify_client(settings)
        services = Services(
            http=http,
            env=flow_environment(os.environ),
            flows=flows,
            answer_budget=settings.answer_budget,
            verify=verify,
            callbacks=await CallbackStore.open(database),
        )
        secrets = _secrets(settings, services, flows)
        app.state.secrets = secrets
        log_context.use_secrets(secrets)
        calls = app.state.calls = CallService(
            flows,
            SessionStore(database, outbox),
            url_prefix=settings.public_url or "",
            services=services,
            secrets=secrets,
        )
        calls.recording_grace = settings.recording_grace
        await calls.resume_pending()
        app.state.inbound = InboundHandler(database, consent, window)
        app.state.message_status = StatusStore(database, consent)
        app.state.settings = settings
        sender, worker = await _start_worker(settings, outbox, consent, window)

        def refresh_secrets(changed: list[str]) -> None:
            """A new flow may read other environment variables: mask their values too."""
            fresh = _secrets(settings, services, flows)
            app.state.secrets = app.state.calls.secrets = fresh
            log_context.use_secrets(fresh)

        dialer, runner = await _start_outbound(app, settings, flows, database)
        watcher = asyncio.create_task(
            flows.watch(settings.reload_interval, refresh_secrets), name="ivr-flow-watcher"
        )
        pruner = asyncio.create_task(
            keep_pruning(database, settings.retention_days, settings.retention_interval),
            name="ivr-retention",
        )
        tasks = [pruner, watcher]
        if database.shared:  # another process's waiting follow-ups, should it be gone
            tasks.append(asyncio.create_task(calls.keep_sweeping(), name="ivr-after-call-sweep"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await calls.close()
            await runner.stop()
            if dialer is not None:
                await dialer.close()
            if worker is not None:
                await worker.stop()
            if sender is not None:
                await sender.close()
            await http.close()
            if verify is not None:
                await verify.close()
            await database.close()

    app = Starlette(
        routes=[*routes, *api_routes, Route("/metrics", metrics_endpoint, methods=["GET"])],
        middleware=[
            Middleware(
                TwilioWebhooks,
                settings=settings,
                webhooks=[*voice_webhooks, *messaging_webhooks, *outbound_webhooks],
            )
        ],
        lifespan=lifespan,
    )
    if settings.dashboard_password:  # off unless a password is set
        from .dashboard import dashboard_app

        app.router.routes.append(Mount("/dashboard", app=dashboard_app(settings, app.state)))
    return app


def _secrets(settings: Settings, services: Services, flows: FlowRepository) -> Secrets:
    """What no log line, page or stored log entry may show (see `Secrets`)."""
    served = [flow for flow_id in flows.ids() if (flow := flows.current(flow_id)) is not None]
    return Secrets(
        [
            settings.auth_token,
            settings.dashboard_password,
            settings.metrics_token,
            *settings.database().secrets,  # PostgreSQL's passwords, should a message hold one
            *env_secrets(services.env, served),
        ]
    )


def _verify_client(settings: Settings) -> VerifyClient | None:
    """The Verify client of verify nodes, when a service and credentials are set."""
    messaging = settings.messaging
    client = VerifyClient.from_env(
        os.environ, messaging.account_sid, settings.auth_token, messaging.api_url
    )
    if client is None and os.environ.get("IVR_VERIFY_SERVICE_SID"):
        log.warning("IVR_VERIFY_SERVICE_SID is set but TWILIO_ACCOUNT_SID or the token is not")
    return client


async def _start_worker(
    settings: Settings, outbox: OutboxStore, consent: ConsentStore, window: WindowStore
) -> tuple[TwilioSender | None, OutboxWorker | None]:
    """The outbox worker, when the server can talk to Twilio; else messages wait queued."""
    messaging = settings.messaging
    if not messaging.account_sid or not settings.auth_token:
        log.warning(
            "messages are queued but not sent: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "
            "to send them"
        )
        return None, None
    if not settings.public_url:
        log.warning("IVR_PUBLIC_URL is not set: messages are sent without status callbacks")
    sender = TwilioSender.open(
        messaging.account_sid, settings.auth_token, messaging.api_url, messaging.request_timeout
    )
    worker = OutboxWorker(
        outbox, sender, consent, window, messaging, callback_base=settings.public_url
    )
    await worker.start()
    return sender, worker


async def _start_outbound(
    app: Starlette, settings: Settings, flows: FlowRepository, database: Store
) -> tuple[TwilioDialer | None, CampaignRunner]:
    """Outbound calls and the campaign runner; calls are refused (503) without credentials."""
    account_sid = settings.messaging.account_sid
    dialer = None
    if account_sid and settings.auth_token:
        dialer = TwilioDialer.open(
            account_sid,
            settings.auth_token,
            settings.messaging.api_url,
            settings.outbound.request_timeout,
        )
    store = OutboundStore(database)
    outbound = OutboundCalls(
        flows,
        store,
        app.state.calls,
        settings.outbound,
        dialer=dialer,
        public_url=settings.public_url,
    )
    runner = CampaignRunner(store, outbound, settings.outbound)
    app.state.outbound = outbound
    app.state.campaigns = Campaigns(store, outbound, runner)
    if dialer is not None and settings.public_url:
        await runner.start()
    return dialer, runner
