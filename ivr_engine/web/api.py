"""Our own HTTP API under `/api/`: place a call, run campaigns. Bearer token `IVR_API_TOKEN`.

Every answer is JSON. Errors are `{"error": "..."}` with 400 (not JSON, or not an object),
401 (no or wrong token, or the API is off because no token is set), 404 (no such flow or
campaign), 409 (a campaign of that name exists), 422 (the request is understood but cannot be
done: a bad number, a missing contact field, a bad CSV), 502 (Twilio refused the call) or 503
(the server cannot place calls now); an unexpected failure is logged and answered 503, never
a 500.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..campaigns.service import Campaigns, report_csv
from ..messaging.addresses import is_e164
from ..outbound.service import OutboundCalls, OutboundProblem

log = logging.getLogger("ivr_engine.api")

Endpoint = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _authorized(request: Request) -> JSONResponse | None:
    token = request.app.state.settings.outbound.api_token
    if not token:
        return error(401, "the API is off: set IVR_API_TOKEN on the server to use it")
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
        return error(401, "missing or wrong bearer token (Authorization: Bearer $IVR_API_TOKEN)")
    return None


def endpoint(handler: Endpoint) -> Endpoint:
    """Authentication first; a problem becomes its JSON error, anything else a 503."""

    async def wrapped(request: Request) -> Response:
        refused = _authorized(request)
        if refused is not None:
            return refused
        try:
            return await handler(request)
        except OutboundProblem as exc:
            return error(exc.status, exc.message)
        except Exception:
            log.exception("API %s %s failed", request.method, request.url.path)
            return error(503, "the server could not do this just now: try again")

    wrapped.__name__ = handler.__name__
    return wrapped


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OutboundProblem(400, f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OutboundProblem(400, "the body must be a JSON object")
    return data


def _outbound(request: Request) -> OutboundCalls:
    return request.app.state.outbound  # type: ignore[no-any-return]


def _campaigns(request: Request) -> Campaigns:
    return request.app.state.campaigns  # type: ignore[no-any-return]


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise OutboundProblem(422, f'"{key}" is required: a string')
    return value


@endpoint
async def create_call(request: Request) -> Response:
    data = await _body(request)
    variables = data.get("vars", {})
    if not isinstance(variables, dict):
        raise OutboundProblem(422, '"vars" must be an object of contact fields')
    attempt = await _outbound(request).dial(_text(data, "flow"), _text(data, "to"), variables)
    if attempt.status == "not-placed":
        return JSONResponse({"error": attempt.detail, "call": attempt.as_json()}, status_code=502)
    return JSONResponse(attempt.as_json(), status_code=201)


@endpoint
async def get_call(request: Request) -> Response:
    attempt = await _outbound(request).store.attempt(request.path_params["id"])
    if attempt is None:
        raise OutboundProblem(404, f'there is no call "{request.path_params["id"]}"')
    return JSONResponse(attempt.as_json())


@endpoint
async def create_campaign(request: Request) -> Response:
    data = await _body(request)
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise OutboundProblem(422, '"options" must be an object')
    started = await _campaigns(request).start(
        _text(data, "name"), _text(data, "flow"), _text(data, "contacts_csv"), options
    )
    return JSONResponse(started.as_json(), status_code=201)


@endpoint
async def list_campaigns(request: Request) -> Response:
    campaigns = _campaigns(request)
    found = [await campaigns.status(c.name) for c in await campaigns.store.campaigns()]
    return JSONResponse({"campaigns": found})


@endpoint
async def campaign_status(request: Request) -> Response:
    return JSONResponse(await _campaigns(request).status(request.path_params["name"]))


@endpoint
async def steer_campaign(request: Request) -> Response:
    params = request.path_params
    return JSONResponse(await _campaigns(request).steer(params["name"], params["action"]))


@endpoint
async def campaign_report(request: Request) -> Response:
    rows = await _campaigns(request).report(request.path_params["name"])
    kind = request.query_params.get("format", "json")
    if kind == "csv":
        return PlainTextResponse(report_csv(rows), media_type="text/csv")
    if kind != "json":
        raise OutboundProblem(422, f'"format": "{kind}" is not csv or json')
    return JSONResponse({"contacts": rows})


@endpoint
async def add_do_not_call(request: Request) -> Response:
    data = await _body(request)
    numbers = data.get("numbers")
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise OutboundProblem(422, '"numbers" must be a list of E.164 numbers')
    bad = [n for n in numbers if not is_e164(n)]
    if bad:
        raise OutboundProblem(422, f'"numbers": "{bad[0]}" is not an E.164 number')
    await _outbound(request).store.add_do_not_call(numbers, str(data.get("reason", "")))
    return JSONResponse({"added": len(numbers)})


api_routes = [
    Route("/api/calls", create_call, methods=["POST"]),
    Route("/api/calls/{id}", get_call, methods=["GET"]),
    Route("/api/campaigns", create_campaign, methods=["POST"]),
    Route("/api/campaigns", list_campaigns, methods=["GET"]),
    Route("/api/campaigns/{name}", campaign_status, methods=["GET"]),
    Route("/api/campaigns/{name}/report", campaign_report, methods=["GET"]),
    Route("/api/campaigns/{name}/{action}", steer_campaign, methods=["POST"]),
    Route("/api/do-not-call", add_do_not_call, methods=["POST"]),
]
