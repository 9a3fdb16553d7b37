"""While an http node waits on a slow API, other calls go on: a real server over real sockets."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import httpx2
import pytest
import uvicorn
from starlette.testclient import TestClient

from ivr_engine.runtime.step import apology
from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio
from tests.fakeapi import FakeApi
from tests.postgres import PASSWORD, PostgresServer, pg_query
from tests.web.calls import Call

pytestmark = pytest.mark.backends("sqlite", "postgresql")

SLOW = """\
start: lookup
vars: {{api: "{api}"}}
nodes:
  lookup:
    type: http
    url: "{{{{ api }}}}/slow"
    timeout: 10
    into: answer
    next: done
  done:
    type: hangup
    text: "Slow answer {{{{ answer.body.slow }}}}."
"""


@contextmanager
def live(settings: Settings, fake_api: FakeApi) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1, serving a flow that calls the slow API."""
    (settings.flows_dir / "slow.yaml").write_text(SLOW.format(api=fake_api.url), encoding="utf-8")
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        fake_api.release.set()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live_base(settings: Settings, fake_api: FakeApi) -> Iterator[str]:
    with live(settings, fake_api) as base:
        yield base


def in_flight(fake_api: FakeApi, count: int) -> None:
    for _ in range(count):  # every slow call is inside the API at the same time
        assert fake_api.arrived.acquire(timeout=20), "the slow calls were not all in flight"


def test_calls_go_on_while_several_http_nodes_wait_on_a_slow_api(
    live_base: str, fake_api: FakeApi
) -> None:
    waiting = 14  # on PostgreSQL each holds one of the pool's 20 connections meanwhile
    with httpx2.Client(timeout=30) as http, ThreadPoolExecutor(waiting) as pool:
        twilio = Twilio(http, base=live_base)  # type: ignore[arg-type]
        slow_calls = [
            pool.submit(Call(twilio, "slow", sid=f"CA{i:032d}").start) for i in range(waiting)
        ]
        in_flight(fake_api, waiting)
        quick = Call(twilio, "acme", sid="CA" + "f" * 32).start()
        assert quick.said()[0] == "Thanks for calling Acme."
        assert not any(call.done() for call in slow_calls)
        fake_api.release.set()
        answers = [call.result(timeout=20) for call in slow_calls]
    assert [a.said() for a in answers] == [["Slow answer True."]] * waiting


@pytest.mark.backends("postgresql")  # SQLite's steps hold no pooled connection
def test_with_every_connection_held_by_a_waiting_step_the_next_request_waits_for_one(
    settings: Settings, fake_api: FakeApi
) -> None:
    """PostgreSQL: a step holds a pooled connection while its node waits; more steps than
    connections wait their turn (a few seconds at most) rather than fail."""
    settings = replace(settings, database_pool_size=3)
    with live(settings, fake_api) as base, httpx2.Client(timeout=30) as http:
        twilio = Twilio(http, base=base)  # type: ignore[arg-type]
        with ThreadPoolExecutor(6) as pool:
            slow = [pool.submit(Call(twilio, "slow", sid=f"CA{i:032d}").start) for i in range(5)]
            in_flight(fake_api, 3)  # three steps hold the three connections
            quick = pool.submit(Call(twilio, "acme", sid="CA" + "f" * 32).start)
            time.sleep(2.0)  # longer than a connection is waited for when one is free
            assert not quick.done() and not any(call.done() for call in slow)  # all waiting
            fake_api.release.set()
            answers = [call.result(timeout=20) for call in slow]
            greeting = quick.result(timeout=20)
    assert [a.said() for a in answers] == [["Slow answer True."]] * 5
    assert greeting.said()[0] == "Thanks for calling Acme."


@pytest.mark.backends("postgresql")  # SQLite's steps hold no pooled connection
def test_a_request_that_waits_too_long_for_a_connection_hears_the_apology_and_the_log_says_why(
    settings: Settings, fake_api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(settings, database_pool_size=2)
    with live(settings, fake_api) as base, httpx2.Client(timeout=30) as http:
        twilio = Twilio(http, base=base)  # type: ignore[arg-type]
        with ThreadPoolExecutor(2) as pool:
            slow = [pool.submit(Call(twilio, "slow", sid=f"CA{i:032d}").start) for i in range(2)]
            in_flight(fake_api, 2)
            began = time.monotonic()
            refused = Call(twilio, "acme", sid="CA" + "f" * 32).start()
            waited = time.monotonic() - began
            healthz = http.get(f"{base}/healthz").status_code  # busy is not down
            fake_api.release.set()
            assert [call.result(timeout=20).said() for call in slow] == [["Slow answer True."]] * 2
        after = Call(twilio, "acme", sid="CA" + "e" * 32).start()
    assert refused.said() == [apology("en-US")]
    assert 3.5 < waited < 6.0  # POOL_WAIT (4 s), well inside Twilio's 15 s
    assert healthz == 200
    assert after.said()[0] == "Thanks for calling Acme."  # free again: served
    [line] = [r for r in caplog.records if "IVR_DATABASE_POOL_SIZE" in r.getMessage()]
    assert line.getMessage().startswith(
        f"call {'CA' + 'f' * 32}: incoming call failed: all 2 connections to PostgreSQL at "
        "postgresql://postgres:***@"
    )
    assert line.exc_info is None  # one line, no traceback


@pytest.mark.backends("postgresql")
def test_a_server_refusing_more_connections_is_unavailable_like_one_that_is_down(
    settings: Settings,
    fake_api: FakeApi,
    postgres_server: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL's "too many connections" (here a role allowed two: the pool's first and the
    health ping's) is the database being unavailable: the caller hears the apology at once,
    and the log has one line saying why."""
    assert settings.database_url
    role = f"few_{os.getpid()}_{int(time.monotonic() * 1000)}"
    with TestClient(create_app(settings)):  # the schema, made by its owner
        pass
    pg_query(
        settings.database_url, f"CREATE ROLE {role} LOGIN PASSWORD 'few-pass-77' CONNECTION LIMIT 2"
    )
    for grant in ("ALL ON ALL TABLES IN SCHEMA", "ALL ON ALL SEQUENCES IN SCHEMA", "ALL ON SCHEMA"):
        pg_query(settings.database_url, f"GRANT {grant} public TO {role}")
    limited = settings.database_url.replace(f"postgres:{PASSWORD}@", f"{role}:few-pass-77@")
    with (
        live(replace(settings, database_url=limited), fake_api) as base,
        httpx2.Client(timeout=30) as http,
    ):
        twilio = Twilio(http, base=base)  # type: ignore[arg-type]
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(Call(twilio, "slow", sid="CA" + "1" * 32).start)
            in_flight(fake_api, 1)  # it holds the pool's one connection
            began = time.monotonic()
            refused = Call(twilio, "acme", sid="CA" + "f" * 32).start()
            waited = time.monotonic() - began
            fake_api.release.set()
            assert slow.result(timeout=20).said() == ["Slow answer True."]
    assert refused.said() == [apology("en-US")]
    assert waited < 2.0
    [line] = [r for r in caplog.records if f"call {'CA' + 'f' * 32}:" in r.getMessage()]
    assert "is unavailable: too many connections for role" in line.getMessage()
    assert line.exc_info is None
