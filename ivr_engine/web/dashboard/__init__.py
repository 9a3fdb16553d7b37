"""The operator dashboard under /dashboard: flows, a flow's traffic, calls, a call, messages.

Served by the same app as the webhooks, only when IVR_DASHBOARD_PASSWORD is set. Pages are
rendered on the server from Jinja2 templates shipped in this package (with its CSS and a
little JavaScript: no CDN, it works offline). It reads the store (the call history, the
outbox) and the flows being served; its one write is re-queuing a dead letter, the same as
`ivr messages retry`. Its reads are a few indexed queries on the shared connection, outside
the webhooks' path (see README, "Operating it").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..settings import Settings
from .auth import SESSION_HOURS, LoggedIn, SecurityHeaders, cookie_key
from .pages import Pages

HERE = Path(__file__).parent


def dashboard_app(settings: Settings, state: State) -> Starlette:
    """The dashboard as an ASGI app to mount at /dashboard; `state` is the server's app state."""
    assert settings.dashboard_password, "the dashboard needs IVR_DASHBOARD_PASSWORD"
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    pages = Pages(settings, state, templates)
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    routes: list[Any] = [
        Route("/", pages.home),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/flows", pages.flows),
        Route("/flows/{flow_id}", pages.flow),
        Route("/calls", pages.calls),
        Route("/calls/{call_sid}", pages.call),
        Route("/messages", pages.messages),
        Route("/messages/{row_id:int}/retry", pages.retry, methods=["POST"]),
        Mount("/static", LoggedIn(StaticFiles(directory=HERE / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=cookie_key(settings.dashboard_password),
                session_cookie="ivr_dashboard",
                max_age=SESSION_HOURS * 3600,
                path="/dashboard",
                same_site="strict",
                https_only=secure,
            ),
        ],
        exception_handlers={404: pages.not_found},
    )
