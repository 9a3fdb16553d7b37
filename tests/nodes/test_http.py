"""The http node against a real local HTTP server (tests/fakeapi.py).

Flows run through the real app over HTTP; the sample flows run through the pure runtime with
the shared HTTP client, their API address pointed at the local server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.errors import FlowError
from ivr_engine.http_client import shared_http_client
from ivr_engine.loader import FlowLoader
from ivr_engine.model import Flow
from ivr_engine.nodes import HttpNode
from ivr_engine.project import project_registry
from ivr_engine.runtime import Services, StepResult, start_call
from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio, session_data
from tests.fakeapi import FakeApi
from tests.support import CALLER, NOW, PREFIX, VALID, load_text, load_valid, twiml
from tests.web.calls import Call

SECRET = "s3cr3t-crm-token-Zq81"

LOOKUP = """\
start: lookup
on_error: sorry
vars:
  api: "{api}"
nodes:
  lookup:
    type: http
    method: {method}
    url: "{{{{ api }}}}{path}"
    headers:
      Authorization: "Bearer {{{{ env.CRM_TOKEN }}}}"
    query:
      caller: "{{{{ call.from }}}}"
    {body}
    timeout: {timeout}
    into: order
    {on_error}
    next: tell
  tell:
    type: hangup
    text: "Order {{{{ order.body.order.id }}}} is {{{{ order.body.order.status }}}}, HTTP {{{{ order.status }}}}."
  failed:
    type: hangup
    text: "Lookup failed: {{{{ order.error }}}}."
  sorry:
    type: hangup
    text: Please call again later.
"""


def lookup_flow(
    api: str,
    path: str = "/orders",
    *,
    method: str = "GET",
    body: str = "",
    timeout: float = 2,
    on_error: bool = True,
) -> str:
    return LOOKUP.format(
        api=api,
        path=path,
        method=method,
        body=body,
        timeout=timeout,
        on_error="on_error: failed" if on_error else "",
    )


@contextmanager
def serving(settings: Settings, flows: dict[str, str]) -> Iterator[Twilio]:
    for name, text in flows.items():
        (settings.flows_dir / f"{name}.yaml").write_text(text, encoding="utf-8")
    with TestClient(create_app(settings)) as client:
        yield Twilio(client)


@pytest.fixture(autouse=True)
def crm_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TOKEN", SECRET)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_json_answer_goes_into_the_variable_and_the_call_continues_at_next(
    settings: Settings, fake_api: FakeApi
) -> None:
    with serving(settings, {"lookup": lookup_flow(fake_api.url)}) as twilio:
        call = Call(twilio, "lookup")
        answer = call.start()
    assert answer.said() == ["Order A-17 is shipped, HTTP 200."]
    assert session_data(settings, call.sid)["vars"]["order"] == {
        "ok": True,
        "status": 200,
        "body": {"order": {"id": "A-17", "status": "shipped", "total": 42.5}},
        "error": None,
    }


def test_the_request_carries_method_query_secret_header_and_json_body(
    settings: Settings, fake_api: FakeApi
) -> None:
    flow = lookup_flow(
        fake_api.url,
        "/echo",
        method="POST",
        body='json: {phone: "{{ call.from }}", rating: 5, urgent: true}',
    )
    with serving(settings, {"lookup": flow}) as twilio:
        Call(twilio, "lookup").start()
    [request] = fake_api.seen
    assert request.method == "POST"
    assert request.path == "/echo"
    assert request.query == {"caller": ["+15551234567"]}
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == b'{"phone":"+15551234567","rating":5,"urgent":true}'


def test_a_form_body_is_sent_form_encoded(settings: Settings, fake_api: FakeApi) -> None:
    flow = lookup_flow(
        fake_api.url, "/echo", method="POST", body='form: {account: "7 & 8", lang: en}'
    )
    with serving(settings, {"lookup": flow}) as twilio:
        Call(twilio, "lookup").start()
    [request] = fake_api.seen
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.body == b"account=7+%26+8&lang=en"


def test_a_text_answer_is_kept_as_text(settings: Settings, fake_api: FakeApi) -> None:
    flow = lookup_flow(fake_api.url, "/text").replace(
        "Order {{ order.body.order.id }} is {{ order.body.order.status }}", "Got {{ order.body }}"
    )
    with serving(settings, {"lookup": flow}) as twilio:
        call = Call(twilio, "lookup")
        assert call.start().said() == ["Got plain words, HTTP 200."]
    assert session_data(settings, call.sid)["vars"]["order"]["body"] == "plain words"


def test_an_answer_that_takes_too_long_goes_to_on_error_with_a_timeout(
    settings: Settings, fake_api: FakeApi
) -> None:
    with serving(settings, {"lookup": lookup_flow(fake_api.url, "/never", timeout=0.2)}) as twilio:
        call = Call(twilio, "lookup")
        answer = call.start()
    assert answer.said() == ["Lookup failed: no answer within 0.2 s."]
    assert session_data(settings, call.sid)["vars"]["order"] == {
        "ok": False,
        "status": None,
        "body": None,
        "error": "no answer within 0.2 s",
    }


def test_a_500_answer_goes_to_on_error_and_keeps_status_and_body(
    settings: Settings, fake_api: FakeApi
) -> None:
    with serving(settings, {"lookup": lookup_flow(fake_api.url, "/error")}) as twilio:
        call = Call(twilio, "lookup")
        answer = call.start()
    assert answer.said() == ["Lookup failed: the answer was HTTP 500."]
    order = session_data(settings, call.sid)["vars"]["order"]
    assert (order["ok"], order["status"], order["body"]) == (
        False,
        500,
        {"error": "database is down"},
    )


def test_a_refused_connection_goes_to_on_error(settings: Settings) -> None:
    flow = lookup_flow(f"http://127.0.0.1:{closed_port()}")
    with serving(settings, {"lookup": flow}) as twilio:
        answer = Call(twilio, "lookup").start()
    assert answer.said() == ["Lookup failed: could not connect."]


def test_an_answer_larger_than_the_limit_is_an_error_not_a_huge_session(
    settings: Settings, fake_api: FakeApi
) -> None:
    with serving(settings, {"lookup": lookup_flow(fake_api.url, "/huge")}) as twilio:
        answer = Call(twilio, "lookup").start()
    assert answer.said() == ["Lookup failed: the answer is larger than 256 kB."]


def test_without_on_error_a_failure_apologises_and_takes_the_flows_on_error_path(
    settings: Settings, fake_api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    flow = lookup_flow(fake_api.url, "/error", on_error=False)
    with serving(settings, {"lookup": flow}) as twilio:
        answer = Call(twilio, "lookup").start()
    assert answer.said() == ["We're sorry, something went wrong.", "Please call again later."]
    assert f"StepError: GET {fake_api.url}/error: the answer was HTTP 500" in caplog.text


def test_secrets_never_reach_twiml_sessions_or_logs(
    settings: Settings, fake_api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP client's own included
    flows = {
        "good": lookup_flow(fake_api.url),
        "bad": lookup_flow(fake_api.url, "/error", on_error=False),
        "slow": lookup_flow(fake_api.url, "/never", timeout=0.2),
    }
    with serving(settings, flows) as twilio:
        answers = [Call(twilio, name, sid=f"CA{i:032d}").start() for i, name in enumerate(flows, 1)]
    assert len(fake_api.seen) == 3
    assert all(r.headers["Authorization"] == f"Bearer {SECRET}" for r in fake_api.seen)
    assert all(SECRET not in a.xml for a in answers)
    assert SECRET not in caplog.text
    assert SECRET.encode() not in Path(settings.db_path).read_bytes()


def test_a_secret_that_is_not_a_valid_header_fails_without_quoting_it(
    settings: Settings,
    fake_api: FakeApi,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_TOKEN", SECRET + "\nX-Injected: 1")
    with serving(settings, {"lookup": lookup_flow(fake_api.url)}) as twilio:
        answer = Call(twilio, "lookup").start()
    assert answer.said() == ["Lookup failed: the request failed."]
    assert fake_api.seen == []
    assert SECRET not in caplog.text


def test_a_missing_environment_variable_apologises_and_names_only_the_header(
    settings: Settings,
    fake_api: FakeApi,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_TOKEN")
    with serving(settings, {"lookup": lookup_flow(fake_api.url)}) as twilio:
        answer = Call(twilio, "lookup").start()
    assert answer.said() == ["We're sorry, something went wrong.", "Please call again later."]
    assert (
        "header 'Authorization' reads something that is not set "
        "('dict object' has no attribute 'CRM_TOKEN'): set the environment variable on the server"
    ) in caplog.text
    assert fake_api.seen == []


def test_the_engines_own_twilio_credentials_are_not_readable_by_flows(
    settings: Settings, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "engine-only")
    flow = lookup_flow(fake_api.url).replace("env.CRM_TOKEN", "env.TWILIO_AUTH_TOKEN")
    with serving(settings, {"lookup": flow}) as twilio:
        answer = Call(twilio, "lookup").start()
    assert answer.said() == ["We're sorry, something went wrong.", "Please call again later."]
    assert fake_api.seen == []


# ---- validation -----------------------------------------------------------------------


def load(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        FlowLoader(project_registry(tmp_path)).load_file(path)
    except FlowError as exc:
        return [f"{p.line}:{p.column}: {p.message}" for p in exc.problems]
    return []


def test_env_outside_an_http_nodes_headers_is_refused_with_its_place(tmp_path: Path) -> None:
    text = (
        "start: lookup\nnodes:\n"
        "  lookup:\n"
        "    type: http\n"
        '    url: "https://crm.example.com/?key={{ env.CRM_TOKEN }}"\n'
        "    next: bye\n"
        "  bye:\n"
        "    type: hangup\n"
        '    text: "Your token is {{ env.CRM_TOKEN }}"\n'
    )
    assert load(tmp_path, text) == [
        '5:10: node "lookup", field "url": reads {{ env.… }}, a server environment variable: '
        "secrets may only be used in an http node's headers (or a plugin's secret fields), so "
        "they are never spoken or logged: move it there",
        '9:11: node "bye", field "text": reads {{ env.… }}, a server environment variable: '
        "secrets may only be used in an http node's headers (or a plugin's secret fields), so "
        "they are never spoken or logged: move it there",
    ]


def test_env_cannot_be_a_flow_variable_name(tmp_path: Path) -> None:
    text = "start: bye\nvars: {env: x}\nnodes:\n  bye: {type: hangup}\n"
    assert load(tmp_path, text) == [
        '2:13: variable "env": "env" is reserved for server environment variables: '
        "choose another variable name"
    ]


def test_a_timeout_above_ten_seconds_is_refused(tmp_path: Path) -> None:
    text = (
        "start: lookup\nnodes:\n"
        "  lookup: {type: http, url: 'https://crm.example.com', timeout: 12, next: bye}\n"
        "  bye: {type: hangup}\n"
    )
    assert load(tmp_path, text) == [
        '3:65: node "lookup", field "timeout": 12 is out of range: it must be at most 10'
    ]


def test_an_address_without_scheme_and_two_bodies_are_reported_in_words(tmp_path: Path) -> None:
    text = (
        "start: lookup\nnodes:\n"
        "  lookup:\n"
        "    type: http\n"
        "    method: POST\n"
        "    url: crm.example.com/orders\n"
        "    json: {a: 1}\n"
        "    form: {b: '2'}\n"
        "    next: bye\n"
        "  bye: {type: hangup}\n"
    )
    assert load(tmp_path, text) == [
        '6:10: node "lookup", field "url": "crm.example.com/orders" is not a web address: '
        "it must start with https:// (or http://)",
        '8:11: node "lookup", field "form": a request has one body: keep either json or form, '
        "not both",
    ]


# ---- sample flows, through the pure runtime against the local API ---------------------

SAMPLE_API = "https://crm.example.com"


def sample_calling(name: str, api: str) -> Flow:
    """A sample flow as written, with its API's address pointed at `api` (a local server)."""
    text = (VALID / f"{name}.yaml").read_text(encoding="utf-8")
    assert SAMPLE_API in text
    return load_text(text.replace(SAMPLE_API, api), name)


def start(flow: Flow) -> StepResult:
    """Start a call with a real shared HTTP client, as the server lends it to nodes."""

    async def run() -> StepResult:
        async with shared_http_client() as http:
            services = Services(http=http, env={"CRM_TOKEN": SECRET})
            return await start_call(flow, CALLER, now=NOW, url_prefix=PREFIX, services=services)

    return asyncio.run(run())


def test_a_minimal_http_node_gets_its_url_then_hangs_up(fake_api: FakeApi) -> None:
    node = load_valid("http_minimal").nodes["notify"]
    assert isinstance(node, HttpNode)
    assert (node.field("method", "GET"), node.targets()) == ("GET", [])
    result = start(sample_calling("http_minimal", fake_api.url))
    [request] = fake_api.seen
    assert (request.method, request.path, request.query, request.body) == (
        "GET",
        "/api/calls",
        {},
        b"",
    )
    assert result.twiml == twiml("<Hangup />")
    assert (result.session.path, result.session.vars) == (["notify"], {})


def test_a_full_http_node_compiles_its_templates_and_both_ways_out() -> None:
    flow = load_valid("http_full")
    url = flow.text("lookup", ("url",))
    header = flow.text("lookup", ("headers", "Authorization"))
    assert url is not None and url.variables == {"order_number"}
    assert header is not None and header.variables == {"env"}
    assert [(t.label, t.node_id) for t in flow.nodes["lookup"].targets()] == [
        ("next", "tell"),
        ("error", "lookup_failed"),
    ]
    assert flow.nodes["lookup"].variables_written() == [(("into",), "order")]


def test_a_full_http_node_sends_every_part_of_its_request_and_reads_the_answer(
    fake_api: FakeApi,
) -> None:
    result = start(sample_calling("http_full", fake_api.url))
    lookup, log_call = fake_api.seen
    assert (lookup.method, lookup.path, lookup.query) == (
        "POST",
        "/api/orders/A-17",
        {"source": ["ivr"]},
    )
    assert lookup.headers["Authorization"] == f"Bearer {SECRET}"
    assert lookup.headers["X-Caller"] == CALLER["From"]
    assert lookup.headers["Content-Type"] == "application/json"
    assert lookup.body == b'{"caller":"+15551230000","priority":2,"urgent":true,"note":null}'
    assert (log_call.method, log_call.path) == ("PUT", "/api/calls")
    assert log_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert log_call.body == b"caller=%2B15551230000&order=A-17"
    assert result.twiml == twiml(
        '<Say language="en-US">Order A-17 is shipped.</Say>'
        '<Say language="en-US">Goodbye.</Say><Hangup />'
    )
    assert result.session.vars["order"] == {
        "ok": True,
        "status": 200,
        "body": {"order": {"id": "A-17", "status": "shipped", "total": 42.5}},
        "error": None,
    }


def test_a_full_http_node_that_cannot_connect_takes_its_on_error_path() -> None:
    result = start(sample_calling("http_full", f"http://127.0.0.1:{closed_port()}"))
    assert result.twiml == twiml(
        '<Say language="en-US">Sorry, we could not look your order up: could not connect.</Say>'
        "<Hangup />"
    )
    assert result.session.path == ["lookup", "lookup_failed"]


def test_a_cookie_one_request_was_given_never_goes_with_another(fake_api: FakeApi) -> None:
    """The client is shared by every call: an API's session cookie must stay with nobody."""

    base = fake_api.url.replace("127.0.0.1", "localhost")  # cookie jars ignore IP addresses

    async def run() -> list[str]:
        async with shared_http_client() as http:
            for path in ("/login", "/orders/1"):
                async with http.get(base + path) as answer:
                    await answer.read()
        return [seen.headers.get("Cookie", "") for seen in fake_api.seen]

    assert asyncio.run(run()) == ["", ""]


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _get(url: str) -> tuple[int, bytes]:
    async def run() -> tuple[int, bytes]:
        async with shared_http_client() as http, http.get(url) as answer:
            return answer.status, await answer.read()

    return asyncio.run(run())


def test_a_proxy_named_in_the_environment_carries_the_request(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY is honoured: the request goes to the proxy, in absolute form."""
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", fake_api.url)  # the fake API plays the proxy
    status, _ = _get("http://orders.example.invalid/orders/1")
    assert status == 200
    (seen,) = fake_api.seen
    assert (seen.path, seen.headers["Host"]) == ("/orders/1", "orders.example.invalid")


def test_no_proxy_sends_its_hosts_direct(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_proxies(monkeypatch)
    with socket.socket() as closed:  # a proxy address where nothing listens
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed.getsockname()[1]}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _get(fake_api.url + "/orders/1")[0] == 200
    assert [seen.path for seen in fake_api.seen] == ["/orders/1"]


def test_without_a_proxy_the_netrc_file_is_not_read(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Credentials in ~/.netrc never reach an API a flow calls (nor cost a read per request)."""
    _clear_proxies(monkeypatch)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret-from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert _get(fake_api.url + "/orders/1")[0] == 200
    assert "Authorization" not in fake_api.seen[0].headers
