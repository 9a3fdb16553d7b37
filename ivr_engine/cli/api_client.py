"""The running server's API, as `ivr dial-out` and `ivr campaign` reach it.

The server places the calls and answers their webhooks, so these commands ask it, over HTTP
with the bearer token IVR_API_TOKEN, at `--server` (IVR_SERVER_URL, else the local
`ivr serve` at IVR_PORT). Errors come back as the API words them.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

TIMEOUT = 30.0


class ApiError(Exception):
    """The server refused (its JSON error), or could not be reached."""


def add_server_options(parser: Any) -> None:
    port = os.environ.get("IVR_PORT", "8000")
    default = os.environ.get("IVR_SERVER_URL") or f"http://127.0.0.1:{port}"
    parser.add_argument(
        "--server", default=default, help="the running `ivr serve` (IVR_SERVER_URL)"
    )


def call_api(server: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """(HTTP status, decoded body) of one API request; raises `ApiError` for an error status."""
    token = os.environ.get("IVR_API_TOKEN", "")
    if not token:
        raise ApiError("IVR_API_TOKEN is not set: set it to the server's API token")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, _decode(response.read(), response.headers.get_content_type())
    except urllib.error.HTTPError as exc:
        payload = _decode(exc.read(), exc.headers.get_content_type())
        message = payload.get("error") if isinstance(payload, dict) else None
        raise ApiError(f"{exc.code}: {message or payload or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiError(
            f"cannot reach the server at {server} ({reason}): is `ivr serve` running?"
        ) from None


def _decode(raw: bytes, content_type: str) -> Any:
    if content_type == "application/json":
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw.decode("utf-8", "replace")
