"""The phone network for outbound tests: every call the fake Twilio creates is played back.

`Network` hangs on `FakeTwilio.on_call`; each created call is played into the server by the
emulator (`play_outbound`), in a thread with its own event loop: the number's next scripted
answer (`human`, `machine_end_beep`, `busy`, `no-answer`...; `human` once the script is used
up) and the keys the person presses. A call whose server is down (killed, restarting) is tried
again until it is back, as a phone would keep ringing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from ivr_engine.emulator import EmulatorError, Keys, ScriptedCaller, SignedHttp, new_session
from ivr_engine.emulator.outbound import play_outbound
from tests.conftest import AUTH_TOKEN
from tests.messaging.fake_twilio import ACCOUNT_SID, FakeTwilio, PlacedCall

RETRY_FOR = 60.0


@dataclass
class Played:
    sid: str
    to: str
    answer: str
    heard: list[str]


@dataclass
class Network:
    fake: FakeTwilio
    answers: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    keys: dict[str, str] = field(default_factory=dict)  # number -> keys pressed (default "1")
    played: list[Played] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lock = threading.Lock()
        self.pending = 0
        self.fake.on_call = self._created

    def script(self, number: str, *answers: str) -> None:
        self.answers[number].extend(answers)

    def _created(self, call: PlacedCall) -> None:
        to = call.first("To") or ""
        with self.lock:
            queue = self.answers[to]
            answer = queue.popleft() if queue else "human"
            self.pending += 1
        created = {name: values[0] for name, values in call.params.items() if values}
        asyncio.run_coroutine_threadsafe(self._play(call.sid, to, answer, created), self.loop)

    async def _play(self, sid: str, to: str, answer: str, created: dict[str, str]) -> None:
        deadline = time.monotonic() + RETRY_FOR
        try:
            while not self.fake.released.is_set():  # Twilio has not answered calls.create yet
                await asyncio.sleep(0.05)
            while True:
                caller = ScriptedCaller([Keys(self.keys.get(to, "1"))])
                try:
                    async with new_session(4) as session:
                        transport = SignedHttp(session, AUTH_TOKEN)
                        result = await play_outbound(
                            transport,
                            created,
                            caller,
                            call_sid=sid,
                            answer=answer,
                            account_sid=ACCOUNT_SID,
                        )
                except EmulatorError as exc:
                    if "cannot connect" in str(exc) and time.monotonic() < deadline:
                        await asyncio.sleep(0.2)
                        continue
                    self.errors.append(f"{sid} to {to}: {exc}")
                    return
                heard = result.heard if result is not None else []
                with self.lock:
                    self.played.append(Played(sid, to, answer, heard))
                return
        finally:
            with self.lock:
                self.pending -= 1

    def idle(self) -> bool:
        with self.lock:
            return self.pending == 0

    def close(self) -> None:
        self.fake.on_call = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()
