"""While an http node waits on a slow API, other calls go on: a real server over real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
import uvicorn

from ivr_engine.web import Settings, create_app
from tests.conftest import Twilio
from tests.fakeapi import FakeApi
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


@pytest.fixture
def live_base(settings: Settings, fake_api: FakeApi) -> Iterator[str]:
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


def test_calls_go_on_while_several_http_nodes_wait_on_a_slow_api(
    live_base: str, fake_api: FakeApi
) -> None:
    waiting = 4
    with httpx2.Client(timeout=30) as http, ThreadPoolExecutor(waiting) as pool:
        twilio = Twilio(http, base=live_base)  # type: ignore[arg-type]
        slow_calls = [
            pool.submit(Call(twilio, "slow", sid=f"CA{i:032d}").start) for i in range(waiting)
        ]
        for _ in range(waiting):  # every slow call is inside the API at the same time
            assert fake_api.arrived.acquire(timeout=20), "the slow calls were not all in flight"
        quick = Call(twilio, "acme", sid="CA" + "f" * 32).start()
        assert quick.said()[0] == "Thanks for calling Acme."
        assert not any(call.done() for call in slow_calls)
        fake_api.release.set()
        answers = [call.result(timeout=20) for call in slow_calls]
    assert [a.said() for a in answers] == [["Slow answer True."]] * waiting
