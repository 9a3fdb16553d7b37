"""A small stateful fake of Twilio's Messages and Calls APIs, served over real HTTP on 127.0.0.1.

It keeps what Twilio keeps (accepted messages and created calls, each with the time it was
created, listable by recipient, newest first; `on_call` hears of each call so a test can
play it back into the server as the phone network would), checks
what Twilio checks first (Basic auth, a recipient, a sender, something to send, E.164), and
can be told to misbehave the ways Twilio and networks do: answer errors, hold a request, drop
the connection after accepting a message, or be down altogether.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "1" * 32
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
CALLS_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls\.json$")
E164 = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{1,14}$")


@dataclass(frozen=True)
class Reply:
    """What the fake does with the next create request: answer an error, or drop it."""

    status: int = 0
    code: int = 0
    message: str = ""
    drop: bool = False  # accept the message, then close the connection without an answer


@dataclass
class Created:
    """A resource Twilio created: what was asked (form fields) and when (epoch s)."""

    sid: str
    params: dict[str, list[str]]
    created: float

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Message(Created):
    def resource(self, account_sid: str) -> dict[str, Any]:
        service = self.first("MessagingServiceSid")
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.first("To"),
            "from": self.first("From"),
            "messaging_service_sid": service,
            "body": self.first("Body") or "",
            "status": "accepted" if service and not self.first("From") else "queued",
            "num_media": str(len(self.params.get("MediaUrl", []))),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": formatdate(self.created, usegmt=True),
            "date_updated": formatdate(self.created, usegmt=True),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
            "subresource_uris": {},
        }


@dataclass
class PlacedCall(Created):
    """A call Twilio accepted."""

    def resource(self, account_sid: str) -> dict[str, Any]:
        stamp = formatdate(self.created, usegmt=True)
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.first("To"),
            "to_formatted": self.first("To"),
            "from": self.first("From"),
            "from_formatted": self.first("From"),
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": stamp,
            "date_updated": stamp,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "answered_by": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "forwarded_from": None,
            "caller_name": None,
            "group_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "annotation": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{self.sid}.json",
            "subresource_uris": {},
        }


@dataclass
class FakeTwilio:
    auth_token: str
    account_sid: str = ACCOUNT_SID
    port: int = 0
    messages: list[Message] = field(default_factory=list)
    attempts: list[dict[str, list[str]]] = field(default_factory=list)  # every create request
    lookups: int = 0
    calls: list[PlacedCall] = field(default_factory=list)  # every call created, in order
    call_attempts: list[tuple[float, dict[str, list[str]]]] = field(default_factory=list)
    on_call: Callable[[PlacedCall], None] | None = None  # told of each call it creates
    script: deque[Reply] = field(default_factory=deque)
    refuse: dict[str, Reply] = field(default_factory=dict)  # recipient -> reply, every time
    keep_alive: bool = False  # HTTP/1.1 connection reuse; off by default so `stop` is "down"

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.released.set()
        self.holding = 0  # requests accepted and held right now
        self._server: ThreadingHTTPServer | None = None
        self._sids = itertools.count(1)
        self._call_sids = itertools.count(1)

    # ---- control ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTwilio:
        """Listen (again, on the same port after `stop`)."""
        fake = self

        class Handler(_Handler):
            twilio = fake
            protocol_version = "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Be down: nothing listens on the port until `start`."""
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer_next(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def hold(self) -> None:
        """Accept create requests but keep them waiting for an answer until `release`."""
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    def sent_to(self, to: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.first("To") == to]

    def bodies(self) -> list[str]:
        with self.lock:
            return [m.first("Body") or "" for m in self.messages]

    # ---- behaviour ----------------------------------------------------------------------

    def _scripted(
        self, params: dict[str, list[str]], problem_of: Callable[[dict[str, list[str]]], Any]
    ) -> tuple[Reply | None, tuple[int, dict[str, Any] | None, bool] | None]:
        """Under the lock: the scripted reply to this request (a refusal for its `To`, else the
        next in the script), and the answer to give now if it refuses or the request is bad."""
        to = (params.get("To") or [""])[0]
        reply = self.refuse.get(to) or (self.script.popleft() if self.script else None)
        if reply is not None and not reply.drop:
            return reply, (reply.status, _error(reply), False)
        problem = problem_of(params)
        if problem is not None:
            return reply, (400, _error(problem), False)
        return reply, None

    def create(self, params: dict[str, list[str]]) -> tuple[int, dict[str, Any] | None, bool]:
        """(HTTP status, JSON body or None to drop the connection, whether to hold first)."""
        with self.lock:
            self.attempts.append(params)
            reply, refused = self._scripted(params, _problem)
            if refused is not None:
                return refused
            message = Message(f"SM{next(self._sids):032x}", params, time.time())
            self.messages.append(message)
            if reply is not None and reply.drop:
                return 0, None, False
            return 201, message.resource(self.account_sid), not self.released.is_set()

    def create_call(self, params: dict[str, list[str]]) -> tuple[int, dict[str, Any] | None, bool]:
        """Like `create`, for `Calls.json`: the call is recorded with its time, then announced."""
        with self.lock:
            self.call_attempts.append((time.time(), params))
            reply, refused = self._scripted(params, _call_problem)
            if refused is not None:
                return refused
            call = PlacedCall(f"CA{next(self._call_sids):032x}", params, time.time())
            self.calls.append(call)
            held = not self.released.is_set()
        if self.on_call is not None:
            self.on_call(call)
        if reply is not None and reply.drop:
            return 0, None, False
        return 201, call.resource(self.account_sid), held

    def calls_to(self, to: str) -> list[PlacedCall]:
        with self.lock:
            return [c for c in self.calls if c.first("To") == to]

    def list_calls(self, query: dict[str, list[str]]) -> dict[str, Any]:
        to = (query.get("To") or [None])[0]
        from_ = (query.get("From") or [None])[0]
        size = int((query.get("PageSize") or ["50"])[0])
        with self.lock:
            self.lookups += 1
            found = [
                c
                for c in reversed(self.calls)
                if (to is None or c.first("To") == to)
                and (from_ is None or c.first("From") == from_)
            ]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        return _page("calls", [c.resource(self.account_sid) for c in found[:size]], uri, size)

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        to = (query.get("To") or [None])[0]
        size = int((query.get("PageSize") or ["50"])[0])
        with self.lock:
            self.lookups += 1
            found = [m for m in reversed(self.messages) if to is None or m.first("To") == to]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return _page("messages", [m.resource(self.account_sid) for m in found[:size]], uri, size)

    def authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}"


def _problem(params: dict[str, list[str]]) -> Reply | None:
    first: Callable[[str], str] = lambda name: (params.get(name) or [""])[0]  # noqa: E731
    if not first("To"):
        return Reply(400, 21604, "A 'To' phone number is required.")
    if not E164.match(first("To")):
        return Reply(400, 21211, f"The 'To' number {first('To')} is not a valid phone number.")
    if not first("From") and not first("MessagingServiceSid"):
        return Reply(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
    if not (first("Body") or params.get("MediaUrl") or first("ContentSid")):
        return Reply(400, 21602, "Message body is required.")
    return None


def _call_problem(params: dict[str, list[str]]) -> Reply | None:
    first: Callable[[str], str] = lambda name: (params.get(name) or [""])[0]  # noqa: E731
    if not first("To"):
        return Reply(400, 21201, "No 'To' number is specified")
    if not E164.match(first("To")):
        return Reply(400, 21211, f"The 'To' number {first('To')} is not a valid phone number.")
    if not first("From"):
        return Reply(400, 21213, "No 'From' number is specified")
    if not (first("Url") or first("Twiml") or first("ApplicationSid")):
        return Reply(400, 21205, "Url parameter is required.")
    return None


def _error(reply: Reply) -> dict[str, Any]:
    return {
        "code": reply.code,
        "message": reply.message,
        "more_info": f"https://www.twilio.com/docs/errors/{reply.code}",
        "status": reply.status,
    }


class _Handler(BaseHTTPRequestHandler):
    twilio: FakeTwilio
    disable_nagle_algorithm = True  # headers and body leave as two writes: no 40 ms ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self) -> re.Match[str] | None:
        path = urlsplit(self.path).path
        match = MESSAGES_PATH.match(path) or CALLS_PATH.match(path)
        if match is None:
            self._send(404, {"code": 20404, "message": "not found", "status": 404})
            return None
        if not self.twilio.authorized(self.headers.get("Authorization")):
            self._send(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return None
        return match

    def _calls(self) -> bool:
        return urlsplit(self.path).path.endswith("/Calls.json")

    def do_GET(self) -> None:
        if self._route() is not None:
            query = parse_qs(urlsplit(self.path).query)
            listing = self.twilio.list_calls if self._calls() else self.twilio.list
            self._send(200, listing(query))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self._route() is None:
            return
        create = self.twilio.create_call if self._calls() else self.twilio.create
        status, data, held = create(parse_qs(raw, keep_blank_values=True))
        if held:
            with self.twilio.lock:
                self.twilio.holding += 1
            self.twilio.released.wait(timeout=30)
            with self.twilio.lock:
                self.twilio.holding -= 1
        if data is None:
            self.close_connection = True
            return
        with contextlib.suppress(OSError):  # the client may have gone while we held it
            self._send(status, data)


def main() -> None:
    """Serve the fake on its own (benchmarks): `python -m tests.messaging.fake_twilio TOKEN`."""
    import sys

    fake = FakeTwilio(sys.argv[1], keep_alive=True).start()
    print(fake.port, flush=True)
    try:
        for line in sys.stdin:  # "count": messages accepted; "calls": calls created
            if line.strip() == "count":
                with fake.lock:
                    print(len(fake.messages), flush=True)
            elif line.strip() == "calls":  # how many calls were created
                with fake.lock:
                    print(len(fake.calls), flush=True)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()


def _page(key: str, resources: list[dict[str, Any]], uri: str, size: int) -> dict[str, Any]:
    """The first page of a Twilio list resource (`Calls.json`, `Messages.json`), as Twilio shapes it."""
    return {
        key: resources,
        "first_page_uri": f"{uri}?PageSize={size}&Page=0",
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": size,
        "start": 0,
        "end": max(0, len(resources) - 1),
        "uri": uri,
    }
