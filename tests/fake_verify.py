"""A small stateful fake of Twilio Verify v2, served over real HTTP on 127.0.0.1.

The real twilio client is pointed at it (`IVR_TWILIO_API_URL`). It keeps what Verify keeps
(one pending verification per recipient with its code, sends and checks counted), checks what
Verify checks first (Basic auth, the service, an E.164 `To`, a known channel, a code of 4-10
characters), and answers Verify's errors: 60200 invalid parameter, 60203 too many sends,
60202 too many checks, 20404 for a verification that expired or was approved already. A test
reads the code "sent" from `codes` and can refuse a channel or expire a verification.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "1" * 32
SERVICE_SID = "VA" + "3" * 32
AUTH_TOKEN = "verify-test-token-0123456789"
PATH = re.compile(r"^/v2/Services/(VA[0-9a-f]{32})/(Verifications|VerificationCheck)$")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
CHANNELS = ("sms", "call", "whatsapp", "email", "sna", "auto")
MAX_SENDS = 5
MAX_CHECKS = 5


@dataclass
class Verification:
    sid: str
    to: str
    channel: str
    code: str
    sends: int = 1
    checks: int = 0


@dataclass
class FakeVerify:
    account_sid: str = ACCOUNT_SID
    service_sid: str = SERVICE_SID
    auth_token: str = AUTH_TOKEN
    code: str = "482913"  # the code every new verification gets
    pending: dict[str, Verification] = field(default_factory=dict)  # by recipient
    refuse: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # channel -> error
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (kind, params)
    port: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self._sids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def codes(self) -> dict[str, str]:
        with self.lock:
            return {to: v.code for to, v in self.pending.items()}

    def expire(self, to: str) -> None:
        with self.lock:
            self.pending.pop(to, None)

    # ---- behaviour ----------------------------------------------------------------------

    def start_verification(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, channel = params.get("To", ""), params.get("Channel", "")
        if not to:
            return _error(400, 60200, "Invalid parameter: To")
        if not E164.match(to) and "@" not in to:
            return _error(400, 60200, f"Invalid parameter `To`: {to}")
        if channel not in CHANNELS:
            return _error(400, 60200, f"Invalid parameter `Channel`: {channel}")
        if channel in self.refuse:
            return _error(*self.refuse[channel])
        with self.lock:
            current = self.pending.get(to)
            if current is not None:
                if current.sends >= MAX_SENDS:
                    return _error(429, 60203, "Max send attempts reached")
                current.sends += 1
                current.channel = channel
            else:
                current = Verification(f"VE{next(self._sids):032x}", to, channel, self.code)
                self.pending[to] = current
        return 201, self._resource(current, "pending")

    def check(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        code = params.get("Code", "")
        if not 4 <= len(code) <= 10:
            return _error(400, 60200, "Invalid parameter: Code")
        if not params.get("To") and not params.get("VerificationSid"):
            return _error(400, 60221, "Either a 'To' number or 'VerificationSid' must be specified")
        with self.lock:
            found = self.pending.get(params.get("To", "")) or next(
                (v for v in self.pending.values() if v.sid == params.get("VerificationSid")), None
            )
            if found is None:
                return _error(404, 20404, "The requested resource was not found")
            if found.checks >= MAX_CHECKS:
                return _error(429, 60202, "Max check attempts reached")
            found.checks += 1
            if code != found.code:
                return 200, self._resource(found, "pending")
            del self.pending[found.to]  # approved: soft-deleted, a second check gets 20404
        return 200, self._resource(found, "approved")

    def _resource(self, verification: Verification, status: str) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "sid": verification.sid,
            "service_sid": self.service_sid,
            "account_sid": self.account_sid,
            "to": verification.to,
            "channel": verification.channel,
            "status": status,
            "valid": status == "approved",
            "lookup": {},
            "amount": None,
            "payee": None,
            "send_code_attempts": [
                {"time": now, "channel": verification.channel, "attempt_sid": "VL" + "0" * 32}
            ],
            "date_created": now,
            "date_updated": now,
            "sna": None,
            "url": f"https://verify.twilio.com/v2/Services/{self.service_sid}/Verifications/{verification.sid}",
        }

    # ---- serving ------------------------------------------------------------------------

    def start(self) -> FakeVerify:
        fake = self

        class Handler(_Handler):
            verify = fake

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    verify: FakeVerify

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        params = {k: v[0] for k, v in form.items()}
        fake = self.verify
        expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._send(*_error(401, 20003, "Authenticate"))
            return
        match = PATH.match(urlsplit(self.path).path)
        if match is None or match.group(1) != fake.service_sid:
            self._send(*_error(404, 20404, "The requested resource was not found"))
            return
        kind = match.group(2)
        fake.requests.append((kind, params))
        if kind == "Verifications":
            self._send(*fake.start_verification(params))
        else:
            self._send(*fake.check(params))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve_fake_verify() -> Iterator[FakeVerify]:
    fake = FakeVerify().start()
    try:
        yield fake
    finally:
        fake.stop()
