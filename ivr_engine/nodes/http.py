"""`http`: call a web API and put its answer in a variable; the call waits, no other call does.

The request goes through the process's shared async client (`ctx.services.http`), so waiting
on a slow API only suspends this call. Headers may read server environment variables
(`{{ env.CRM_TOKEN }}`): they are the one place secrets are allowed, and nothing here puts a
header value into TwiML, a variable or a log line (errors are described by kind, never by the
client library's message, which can quote a header).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2

from ..errors import StepError
from ..node import FieldIssue, Goto, Node, Outcome, Target
from ..runtime.context import StepContext
from ..schema import builtin_node_schema
from .common import continue_or_hang_up

if TYPE_CHECKING:  # aiohttp is imported when a request is sent: `ivr validate` never pays for it
    import aiohttp

log = logging.getLogger("ivr_engine.nodes.http")

DEFAULT_TIMEOUT = 3.0
MAX_BODY = 256 * 1024  # the answer is kept in the call's session: keep it small


class HttpNode(Node):
    type_name = "http"
    schema = builtin_node_schema("http")
    template_fields = ("url", "headers.*", "query.*", "json.*", "form.*")
    secret_fields = ("headers.*",)
    target_fields = ("next", "on_error")
    variable_fields = ("into",)

    def targets(self) -> list[Target]:
        found = [Target(("next",), self.spec["next"], "next")] if self.field("next") else []
        if self.field("on_error"):
            found.append(Target(("on_error",), self.spec["on_error"], "error"))
        return found

    def check(self) -> Iterator[FieldIssue]:
        url = str(self.spec["url"])
        if not url.startswith("{") and not url.startswith(("http://", "https://")):
            yield FieldIssue(
                ("url",), f'"{url}" is not a web address: it must start with https:// (or http://)'
            )
        if self.field("json") is not None and self.field("form") is not None:
            yield FieldIssue(
                ("form",), "a request has one body: keep either json or form, not both"
            )
        if self.field("method", "GET") == "GET" and (self.field("json") or self.field("form")):
            yield FieldIssue(
                ("method",),
                "a GET request with a body: most servers ignore it; use method: POST",
                warning=True,
            )

    async def enter(self, ctx: StepContext) -> Outcome:
        client = ctx.services.http
        if client is None:
            raise StepError("no HTTP client was given to the runtime (Services.http)")
        method = self.field("method", "GET")
        url = ctx.render("url") or ""
        where = f"{method} {_without_query(url)}"
        result = await self._send(ctx, client, method, url)
        if self.field("into"):
            ctx.set_var(self.spec["into"], result)
        if result["ok"]:
            return continue_or_hang_up(self, ctx)
        if self.field("on_error"):
            log.warning(
                "call %s: node %r: %s: %s; going to %r",
                ctx.call.get("sid", "?"),
                self.id,
                where,
                result["error"],
                self.spec["on_error"],
            )
            return Goto(self.spec["on_error"])
        raise StepError(f"{where}: {result['error']}")

    async def _send(
        self, ctx: StepContext, client: aiohttp.ClientSession, method: str, url: str
    ) -> dict[str, Any]:
        import aiohttp

        timeout = float(self.field("timeout", DEFAULT_TIMEOUT))
        request: dict[str, Any] = {
            "headers": self._headers(ctx),
            "params": {name: ctx.render(("query", name)) for name in self.field("query", {})},
            "timeout": aiohttp.ClientTimeout(total=timeout),
            "allow_redirects": False,
        }
        if self.field("json") is not None:
            request["json"] = {
                name: ctx.render(("json", name)) if isinstance(value, str) else value
                for name, value in self.spec["json"].items()
            }
        if self.field("form") is not None:
            request["data"] = {name: ctx.render(("form", name)) for name in self.spec["form"]}
        try:
            async with asyncio.timeout(timeout):  # a deadline for the whole exchange
                async with client.request(method, url, **request) as response:
                    raw = await _read(response)
                    status, content_type = response.status, response.content_type
        except TimeoutError:
            return _failure(f"no answer within {timeout:g} s")
        except aiohttp.ClientConnectorError:
            return _failure("could not connect")
        except _TooLarge:
            return _failure(f"the answer is larger than {MAX_BODY // 1024} kB")
        except (aiohttp.ClientError, ValueError):  # InvalidURL is both
            return _failure("the request failed")
        ok = 200 <= status < 300
        return {
            "ok": ok,
            "status": status,
            "body": _parse(raw, content_type),
            "error": None if ok else f"the answer was HTTP {status}",
        }

    def _headers(self, ctx: StepContext) -> dict[str, str]:
        """Header values, the only templates that see `env`; a missing one fails the step."""
        headers: dict[str, str] = {}
        secrets = {"env": dict(ctx.env)}
        for name in self.field("headers", {}):
            try:
                headers[name] = ctx.render(("headers", name), extra=secrets) or ""
            except jinja2.UndefinedError as exc:
                raise StepError(
                    f"header {name!r} reads something that is not set ({exc.message}): "
                    "set the environment variable on the server"
                ) from None
        return headers


class _TooLarge(Exception):
    pass


async def _read(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, content_type: str) -> Any:
    """JSON when the server says so (and it parses), else the text."""
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _failure(error: str) -> dict[str, Any]:
    return {"ok": False, "status": None, "body": None, "error": error}


def _without_query(url: str) -> str:
    """The URL for logs: no query string, which may carry caller data."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else url
