"""The dashboard's pages: each handler reads what it shows and renders one template.

Every page but the login page needs a logged-in session; without one a page answers 401
with the login form. Every POST checks the session's CSRF token first.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from jinja2 import Environment
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ...history.timeline import answer, hops, outcome
from ...messaging.outbox import RETRYABLE, requeue
from ...store import history
from ..settings import Settings
from .auth import CSP, Throttle, csrf_ok, csrf_token, logged_in, password_matches
from .diagram import Marks, render_svg

HERE = Path(__file__).parent
PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
CALLS_LIMIT = 100
MESSAGES_LIMIT = 100
MAX_FORM = 16 * 1024  # the dashboard's forms are a token and a password
RECORDING_KEYS = ("recording_url", "RecordingUrl")


class Pages:
    def __init__(self, settings: Settings, state: State, templates: Environment) -> None:
        self.settings = settings
        self.state = state
        self.templates = templates
        self.throttle = Throttle()
        self.login_css = (HERE / "static" / "dashboard.css").read_text(encoding="utf-8")

    # ---- plumbing ---------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> Response:
        text = self.templates.get_template(name).render(
            csrf=csrf_token(request), base="/dashboard", page=name.split(".")[0], **values
        )
        return HTMLResponse(self._scrub(text), status)

    def _scrub(self, text: str) -> str:
        """Last line of defence: no secret (auth token, password, env values) leaves in a page."""
        found = getattr(self.state, "secrets", None)
        return found.mask(text) if found is not None and text in found else text

    def _login_page(self, request: Request, status: int, problem: str = "") -> Response:
        nonce = secrets.token_urlsafe(16)
        text = self.templates.get_template("login.html").render(
            csrf=csrf_token(request),
            base="/dashboard",
            problem=problem,
            css=self.login_css,
            nonce=nonce,
        )
        policy = CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
        return HTMLResponse(text, status, headers={"content-security-policy": policy})

    def _guard(self, request: Request) -> Response | None:
        """None when the visitor is logged in; else the login form with 401."""
        if logged_in(request):
            return None
        return self._login_page(request, 401)

    async def _form(self, request: Request) -> dict[str, str] | Response:
        body = await request.body()
        if len(body) > MAX_FORM:
            return HTMLResponse("form too large", 413)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return HTMLResponse("form is not UTF-8", 400)
        values = dict(pairs)
        if not csrf_ok(request, values.get("csrf")):
            return HTMLResponse(
                "<!doctype html><title>Refused</title><p>This form is out of date or did not come "
                "from this dashboard (its CSRF token is missing or wrong). Go back, reload the "
                "page and try again.</p>",
                403,
            )
        return values

    @property
    def database(self) -> Any:
        return self.state.database

    async def not_found(self, request: Request, exc: Exception) -> Response:
        guard = self._guard(request)
        if guard is not None:
            return guard
        detail = exc.detail if isinstance(exc, HTTPException) else "not found"
        return self.render(request, "missing.html", 404, what=detail)

    # ---- login ----------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        guard = self._guard(request)
        return guard or RedirectResponse("/dashboard/calls", 303)

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            if logged_in(request):
                return RedirectResponse("/dashboard/calls", 303)
            return self._login_page(request, 200)
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        address = request.client.host if request.client else "?"
        password = self.settings.dashboard_password or ""
        if not password_matches(form.get("password", ""), password):
            await self.throttle.failed(address)
            return self._login_page(request, 401, "That password is not right.")
        self.throttle.succeeded(address)
        request.session.clear()  # a fresh session (and CSRF token) on every login
        request.session["user"] = "operator"
        csrf_token(request)
        return RedirectResponse("/dashboard/calls", 303)

    async def logout(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        request.session.clear()
        return RedirectResponse("/dashboard/login", 303)

    # ---- flows ----------------------------------------------------------------------

    async def flows(self, request: Request) -> Response:
        if guard := self._guard(request):
            return guard
        repo = self.state.flows
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        rows = []
        for flow_id in sorted({*repo.ids(), *repo.rejected}):
            flow = repo.current(flow_id)
            loaded = None
            if flow is not None:
                found = await self.database.fetchone(
                    "SELECT loaded_at FROM flow_versions WHERE flow_id = ? AND version = ?",
                    (flow_id, flow.version),
                )
                loaded = found["loaded_at"] if found else None
            rows.append(
                {
                    "id": flow_id,
                    "flow": flow,
                    "loaded": loaded,
                    "problems": repo.rejected.get(flow_id, []),
                    "today": await history.count_calls(self.database, flow_id, midnight),
                }
            )
        return self.render(request, "flows.html", flows=rows)

    async def flow(self, request: Request) -> Response:
        if guard := self._guard(request):
            return guard
        flow_id = request.path_params["flow_id"]
        flow = self.state.flows.current(flow_id)
        if flow is None:
            raise HTTPException(404, f"no flow {flow_id!r} is being served")
        period = request.query_params.get("period", "24h")
        if period not in PERIODS:
            period = "24h"
        traffic = await history.traffic(self.database, flow_id, datetime.now(UTC) - PERIODS[period])
        svg = render_svg(
            flow, Marks(counts=traffic.edges, ended=traffic.ended_at, failed=traffic.failed_at)
        )
        return self.render(
            request,
            "flow.html",
            flow=flow,
            svg=svg,
            period=period,
            periods=list(PERIODS),
            traffic=traffic,
            problems=self.state.flows.rejected.get(flow_id, []),
        )

    # ---- calls ----------------------------------------------------------------------

    async def calls(self, request: Request) -> Response:
        if guard := self._guard(request):
            return guard
        query = request.query_params
        status = query.get("status") or None
        if status not in history.CALL_STATUSES:
            status = None
        since_name = query.get("since") or ""
        since = datetime.now(UTC) - PERIODS[since_name] if since_name in PERIODS else None
        rows = await history.list_calls(
            self.database,
            flow=query.get("flow") or None,
            status=status,
            caller=(query.get("from") or "").strip() or None,
            since=since,
            limit=CALLS_LIMIT,
        )
        filters = {
            "flow": query.get("flow", ""),
            "status": status or "",
            "from": query.get("from", ""),
            "since": since_name if since else "",
        }
        template = "calls_rows.html" if query.get("partial") == "1" else "calls.html"
        return self.render(
            request,
            template,
            calls=rows,
            filters=filters,
            flow_ids=self.state.flows.ids(),
            statuses=history.CALL_STATUSES,
            periods=list(PERIODS),
            refresh_url="/dashboard/calls?" + urlencode({**filters, "partial": "1"}),
        )

    async def call(self, request: Request) -> Response:
        if guard := self._guard(request):
            return guard
        call_sid = request.path_params["call_sid"]
        found = await history.timeline(self.database, call_sid)
        if found is None:
            raise HTTPException(404, f"there is no call {call_sid}")
        flow = await self.state.flows.version(found.call.flow_id, found.call.flow_version)
        path: set[Any] = set()
        visited: set[str] = set()
        failed: dict[str, int] = {}
        for entry in found.steps:
            for hop in entry.get("path") or []:
                if hop.get("flow", found.call.flow_id) == found.call.flow_id:
                    path.add((hop.get("from"), hop.get("via"), hop.get("to")))
                    visited.update(n for n in (hop.get("from"), hop.get("to")) if n)
            if entry.get("error") and entry.get("error_node"):
                failed[entry["error_node"]] = 1
        svg = (
            render_svg(flow, Marks(path=path, visited=visited, failed=failed))
            if flow is not None
            else None
        )
        steps = [
            {
                **entry,
                "answer": answer(entry),
                "went": hops(entry),
                "outcome": outcome(entry),
                "recording": (entry.get("event") or {}).get("recording_url"),
            }
            for entry in found.steps
        ]
        recordings = sorted(
            {c["RecordingUrl"] for c in found.callbacks if c.get("RecordingUrl")}
            | {s["recording"] for s in steps if s["recording"]}
        )
        return self.render(
            request,
            "call.html",
            call=found.call,
            steps=steps,
            callbacks=found.callbacks,
            messages=found.messages,
            recordings=recordings,
            svg=svg,
        )

    # ---- messages -------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        if guard := self._guard(request):
            return guard
        rows = await self.database.fetchall(
            "SELECT id, call_sid, flow_id, node_id, channel, recipient, status, delivery, reason, "
            "error_code, message_sid, attempts, created_at FROM outbox ORDER BY id DESC LIMIT ?",
            (MESSAGES_LIMIT,),
        )
        outbox = [
            {**dict(row), "history": await history.message_history(self.database, row)}
            for row in rows
        ]
        dead = await self.database.fetchall(
            "SELECT id, call_sid, channel, recipient, status, reason, error_code, attempts, "
            f"updated_at FROM outbox WHERE status IN ({', '.join('?' for _ in RETRYABLE)}) "
            "ORDER BY id DESC LIMIT ?",
            (*RETRYABLE, MESSAGES_LIMIT),
        )
        opt_outs = await self.database.fetchall(
            "SELECT number, channel, source, since FROM suppressions WHERE active = 1 "
            "ORDER BY since DESC LIMIT ?",
            (MESSAGES_LIMIT,),
        )
        return self.render(
            request,
            "messages.html",
            outbox=outbox,
            dead=[dict(row) for row in dead],
            opt_outs=[dict(row) for row in opt_outs],
            notice=request.query_params.get("notice", ""),
        )

    async def retry(self, request: Request) -> Response:
        if guard := self._guard(request):
            return guard
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        row_id = request.path_params["row_id"]
        found = await requeue(self.database, row_id, "from the dashboard")
        if not found.found:
            raise HTTPException(404, f"there is no message #{row_id}")
        if not found.done:
            notice = f"Message #{row_id} is {found.status}: only dead, failed or unsent messages can be retried."
        else:
            outbox = getattr(self.state, "outbox", None)
            if outbox is not None:
                outbox.queued()
            notice = f"Message #{row_id} is queued again."
        return RedirectResponse(f"/dashboard/messages?notice={quote(notice)}", 303)
