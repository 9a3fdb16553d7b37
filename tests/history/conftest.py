"""History fixtures: `ivr serve` in a subprocess with the dashboard on, a fake Twilio for its
messages, and the emulator (`ivr call`) making calls against it over real HTTP."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from ivr_engine.emulator import EmulatedCall, Keys, ScriptedCaller, SignedHttp, new_session
from ivr_engine.store.database import Database
from ivr_engine.store.history import list_calls, timeline
from tests.conftest import AUTH_TOKEN, ROOT, free_port, subprocess_env
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio, Reply

T = TypeVar("T")
PASSWORD = "open-sesame-7431"
METRICS_TOKEN = "scrape-token-5550"
CRM_TOKEN = "crm-secret-token-99887766"
SMS_FROM = "+15550001111"
DEAD_NUMBER = "+15557770000"  # the fake Twilio refuses messages to it (retryable) until told

# A flow with a sensitive PIN, a secret from the environment, an error path and a message.
PIN_FLOW = """\
start: ask_pin
on_error: sorry
vars:
  pin: {default: "", sensitive: true}
  token_copy: ""
nodes:
  ask_pin:
    type: gather
    prompt: Enter your PIN.
    into: pin
    next: confirm
  confirm:
    type: say
    text: "You entered {{ pin }}."
    next: text_them
  text_them:
    type: message
    to: "{{ call.from }}"
    body: Your PIN was checked.
    next: bye
  bye:
    type: hangup
    text: Goodbye.
  sorry:
    type: hangup
    text: Sorry.
"""

# Texts a number the fake Twilio refuses: the message ends up dead-lettered.
DEAD_FLOW = f"""\
start: text_them
nodes:
  text_them:
    type: message
    to: "{DEAD_NUMBER}"
    body: This one will be dead-lettered first.
    next: bye
  bye:
    type: hangup
    text: Bye.
"""


# Its lookup reads an environment variable the server does not have: the step fails, the
# caller hears an apology and the flow's on_error path.
BROKEN_FLOW = """\
start: ask
on_error: sorry
nodes:
  ask:
    type: gather
    prompt: Press 1 to hear your order.
    into: choice
    next: lookup
  lookup:
    type: http
    url: http://127.0.0.1:9/orders
    headers:
      Authorization: "Bearer {{ env.CRM_TOKEN }}"
      X-Missing: "{{ env.IVR_TEST_NOT_SET_ANYWHERE }}"
    into: order
    next: bye
  bye:
    type: hangup
  sorry:
    type: hangup
    text: Sorry.
"""


@dataclass(frozen=True)
class Server:
    base: str
    home: Path
    db_path: Path
    log: Path
    fake: FakeTwilio

    def url(self, path: str) -> str:
        return self.base + path


def start_server(
    home: Path, fake: FakeTwilio, *extra: str, **env: str
) -> tuple[subprocess.Popen[bytes], Server]:
    flows = home / "flows"
    if not flows.exists():
        shutil.copytree(ROOT / "flows", flows, ignore=shutil.ignore_patterns("tests"))
        (flows / "pin.yaml").write_text(PIN_FLOW)
        (flows / "dead.yaml").write_text(DEAD_FLOW)
        (flows / "broken.yaml").write_text(BROKEN_FLOW)
    port = free_port()
    log = home / "serve.log"
    environment = subprocess_env(
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_SMS_FROM=SMS_FROM,
        IVR_TWILIO_API_URL=fake.url,
        IVR_MESSAGE_MAX_ATTEMPTS="1",
        IVR_MESSAGE_RETRY_BASE="0.05",
        IVR_DASHBOARD_PASSWORD=PASSWORD,
        IVR_METRICS_TOKEN=METRICS_TOKEN,
        CRM_TOKEN=CRM_TOKEN,
        **env,
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "ivr_engine", "serve", "--port", str(port)),
                *("--flows", str(flows), "--db", str(home / "ivr.sqlite3"), *extra),
            ],
            cwd=home,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", home, home / "ivr.sqlite3", log, fake)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"ivr serve did not start:\n{log.read_text()}") from None
            time.sleep(0.05)
    return process, server


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(AUTH_TOKEN).start()
    fake.refuse[DEAD_NUMBER] = Reply(status=503, code=20503, message="Service unavailable")
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake_twilio: FakeTwilio) -> Iterator[Server]:
    process, found = start_server(tmp_path_factory.mktemp("history"), fake_twilio)
    try:
        yield found
    finally:
        process.terminate()
        process.wait(timeout=10)


def ivr(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the `ivr` command of this checkout (the emulator and the history commands)."""
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args],
        cwd=ROOT,
        env=subprocess_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_call(
    server: Server,
    flow: str,
    keys: Sequence[str] = (),
    dials: Sequence[str] = (),
    from_number: str = "+15551234567",
) -> str:
    """Make a whole call with the emulator (as `ivr call` does), in this process; its CallSid."""

    async def call() -> str:
        async with new_session() as session:
            caller = ScriptedCaller([Keys(k) for k in keys], list(dials))
            emulated = EmulatedCall(
                SignedHttp(session, AUTH_TOKEN),
                server.url(f"/voice/{flow}"),
                caller,
                from_number=from_number,
            )
            result = await emulated.run()
        return result.call_sid

    return run_async(call)


def run_async(coroutine: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to its end in a thread of its own: Playwright's sync API keeps an
    event loop running in the test's thread, where `asyncio.run` is not allowed."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()  # type: ignore[arg-type]


def in_history(server: Server, read: Callable[[Database], Awaitable[T]]) -> T:
    """Read the server's database through the store's history functions (as `ivr calls` does)."""

    async def run() -> T:
        database = await Database.open(server.db_path, reader=True)
        try:
            return await read(database)
        finally:
            await database.close()

    return run_async(run)


def calls(server: Server, **filters: Any) -> list[dict[str, Any]]:
    return [row.as_dict() for row in in_history(server, lambda db: list_calls(db, **filters))]


def show(server: Server, call_sid: str) -> dict[str, Any]:
    found = in_history(server, lambda db: timeline(db, call_sid))
    assert found is not None, f"no call {call_sid} in the history"
    return found.as_dict()


def start_live_call(server: Server, flow: str, caller: str = "+15553330003") -> str:
    """Only the incoming-call webhook, signed as Twilio signs it: the call stays live."""
    call_sid = "CA" + uuid.uuid4().hex
    params = {"CallSid": call_sid, "From": caller, "To": "+15550000000", "CallStatus": "ringing"}
    url = server.url(f"/voice/{flow}")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(
        url, urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    return call_sid
