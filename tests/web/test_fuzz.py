"""Generated requests against every Twilio route of a real server: no 5xx, no dropped
connection, and no change at all without a valid signature.

Hypothesis generates the method, the path (real routes, mangled segments, odd step numbers),
the headers (odd Host values, non-ASCII signatures, junk) and the form fields (Twilio's names
with any text, numbers `int()` refuses, sizes SQLite refuses), sent signed or unsigned over one
kept-alive connection. The number of examples is bounded and the run derandomized, so the
suite stays fast and a failure reproduces.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr_engine.web import Settings, create_app
from ivr_engine.web.messaging_webhooks import messaging_webhooks
from ivr_engine.web.voice_webhooks import voice_webhooks
from tests.conftest import AUTH_TOKEN, ROOT
from tests.web.live import Connection, Reply, live_server

EXAMPLES = 120
CALL_SID = "CA" + "f" * 32
ROUTES = [
    "/voice/acme",
    "/voice/acme/step/1/input",
    "/voice/acme/step/2/no-input",
    "/voice/acme/step/1/record",
    "/voice/acme/step/3/dial",
    "/status/call",
    "/status/recording",
    "/status/transcription",
    "/status/message",
    "/status/message?outbox=1",
    "/messaging/inbound",
]
FIELDS = [
    "CallSid",
    "AccountSid",
    "From",
    "To",
    "CallStatus",
    "CallDuration",
    "SequenceNumber",
    "Digits",
    "SpeechResult",
    "Confidence",
    "RecordingSid",
    "RecordingUrl",
    "RecordingDuration",
    "RecordingStatus",
    "TranscriptionText",
    "TranscriptionStatus",
    "DialCallStatus",
    "DialCallDuration",
    "MessageSid",
    "MessageStatus",
    "ErrorCode",
    "Body",
]
ODD_NUMBERS = ["²", "٣", "-1", "1e3", " 7 ", "9223372036854775808", "9" * 5000, "0x10", ""]
TABLES = ["sessions", "call_events", "outbox", "message_events", "suppressions", "consent_events"]


@dataclass
class Server:
    port: int
    db_path: str
    connection: Connection

    def send(self, request: Request) -> Reply:
        try:
            return self._send(request)
        except OSError:  # the previous answer closed the connection, as it said it would
            self.connection.close()
            self.connection = Connection(self.port)
            return self._send(request)

    def _send(self, request: Request) -> Reply:
        return self.connection.request(
            request.method, request.path, request.headers, request.body, host=request.host
        )

    def state(self) -> str:
        """Everything the server stored, as one digest."""
        digest = hashlib.sha256()
        with sqlite3.connect(self.db_path) as db:
            for table in TABLES:
                for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                    digest.update(repr(row).encode())
        return digest.hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(ROOT / "flows", home / "flows", ignore=shutil.ignore_patterns("tests"))
    config = Settings(
        flows_dir=home / "flows",
        db_path=str(home / "ivr.sqlite3"),
        auth_token=AUTH_TOKEN,
        body_timeout=1.0,
    )
    with live_server(create_app(config)) as port:
        server = Server(port, config.db_path, Connection(port))
        try:
            started = server.send(sign(Request("POST", "/voice/acme", {"CallSid": CALL_SID}), port))
            assert started.status == 200
            yield server
        finally:
            server.connection.close()


@dataclass
class Request:
    method: str
    path: str
    fields: dict[str, str]
    headers: list[tuple[bytes | str, bytes | str]] | None = None
    host: bytes | str | None = None
    raw_body: bytes | None = None

    @property
    def body(self) -> bytes:
        return self.raw_body if self.raw_body is not None else urlencode(self.fields).encode()

    def __post_init__(self) -> None:
        if self.headers is None:
            self.headers = [("Content-Type", "application/x-www-form-urlencoded")]


def sign(request: Request, port: int | None = None) -> Request:
    """The request signed as Twilio signs it (for the URL the server rebuilds)."""
    host = request.host or f"127.0.0.1:{port}"
    params = request.fields if request.method == "POST" else {}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"http://{host}{request.path}", params
    )
    assert request.headers is not None
    request.headers.append(("X-Twilio-Signature", signature))
    return request


segments = st.one_of(
    st.sampled_from(["voice", "status", "messaging", "step", "acme", "call", "inbound", ""]),
    st.sampled_from(ODD_NUMBERS).map(lambda text: quote(text, safe="")),
    st.text(max_size=8).map(lambda text: quote(text, safe="")),
)
mangled_paths = st.builds(
    lambda prefix, rest: prefix + "/".join(rest),
    st.sampled_from(["/voice/", "/status/", "/messaging/", "/voice/acme/step/"]),
    st.lists(segments, max_size=4),
)
paths = st.one_of(st.sampled_from(ROUTES), mangled_paths)
values = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(["STOP", "START", "completed", "in-progress", "1", "#", CALL_SID]),
    st.text(max_size=30),
)
fields = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), values, max_size=8)
header_values = st.one_of(
    st.binary(max_size=30).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    st.text(max_size=30).map(lambda text: text.replace("\r", "").replace("\n", "")),
)
junk_headers = st.lists(
    st.tuples(
        st.sampled_from(
            ["X-Twilio-Signature", "Content-Type", "X-Twilio-Webhooks-Signature-Settings", "X-Junk"]
        ),
        header_values,
    ),
    max_size=3,
)
hosts = st.one_of(
    st.none(),
    st.sampled_from(["x:abc", "[::1", "a:99999999999999999999", "", "ex ample", "é.example"]),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[Request, bool]:
    request = Request(
        draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"])),
        draw(paths),
        draw(fields),
        host=draw(hosts),
    )
    assert request.headers is not None
    if draw(st.booleans()):
        request.raw_body = draw(st.binary(max_size=60))
    signed = draw(st.booleans()) and request.raw_body is None and request.host is None
    if not signed:
        request.headers += draw(junk_headers)
    return request, signed


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=requests())
def test_no_generated_request_gets_a_5xx_drops_the_connection_or_changes_state_unsigned(
    server: Server, generated: tuple[Request, bool]
) -> None:
    request, signed = generated
    if signed:
        sign(request, server.port)
    before = server.state()
    reply = server.send(request)
    assert reply.status < 500, (request, reply)
    if reply.closes:
        assert server.connection.at_eof(), "said Connection: close but kept the connection"
    else:  # kept alive: the next request on the same connection must work
        health = server.send(Request("GET", "/healthz", {}))
        assert health.status == 200, (request, health)
    if not signed:
        assert reply.status in (400, 403, 404, 405, 408), (request, reply)
        assert server.state() == before, request


def test_the_fuzzed_server_still_serves_calls(server: Server) -> None:
    reply = server.send(
        sign(Request("POST", "/voice/acme", {"CallSid": "CA" + "e" * 32}), server.port)
    )
    assert reply.status == 200
    assert "Thanks for calling Acme." in reply.text


def test_the_fuzzed_routes_cover_every_twilio_webhook() -> None:
    for webhook in [*voice_webhooks, *messaging_webhooks]:
        matched = [r for r in ROUTES if webhook.match(r.split("?")[0][1:].split("/")) is not None]
        assert matched, f"no fuzzed route reaches {webhook.path}"
