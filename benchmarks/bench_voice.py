"""Voice webhooks under load: `ivr serve` beside a bare Starlette endpoint, rounds alternated.

Each emulated call walks the classic menu flow (flows/acme.yaml) step by step over HTTP with
signed requests, through the same emulator as `ivr call`: by default it presses 1 (sales),
finds the line busy, leaves a voicemail and hangs up, and Twilio's recording-status,
call-status and transcription callbacks follow (7 requests a call). The bare endpoint
(benchmarks/bare_server.py) answers each path with the constant TwiML `ivr serve` gave in a
reference call: no signature check, no state. Both run in their own uvicorn process with the
same settings (uvloop + httptools); `ivr serve` gets a temporary database.

Two modes, each in rounds alternating ivr, bare, ivr, bare:
- closed loop: N callers, each starting its next call when the last one ends; this saturates
  the server, and the server's CPU time per request (utime + stime of the server process, from
  /proc/<pid>/stat, before and after the round) is the figure that does not depend on the
  load generator;
- open loop: new calls arrive at a fixed rate (default 200 a second) whatever the answers do;
  a call's first request is timed from its due time, so a late generator counts as latency.
  It reports p99 latency and failed calls (any error Twilio would choke on, a request slower
  than Twilio's 15 s, or a call that did not hear what the reference call heard).

Targets (issue 3): server CPU per request at most 3x the bare endpoint's; at 200 calls a second,
p99 under 20 ms and no failed call.

    python benchmarks/bench_voice.py [--seconds 10] [--rounds 2] [--callers 16] [--rate 200]
                                     [--database postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr_engine.emulator import (  # noqa: E402
    CallResult,
    EmulatedCall,
    EmulatorError,
    Input,
    ScriptedCaller,
    SignedHttp,
    new_session,
)
from ivr_engine.emulator.caller import (  # noqa: E402
    Keys,
    Speech,
    parse_dial_outcomes,
    parse_keys,
)

TOKEN = "bench-token-0123456789abcdef"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DRAIN_SECONDS = 20.0  # an open-loop round waits at most this long for its last calls


# ---- servers ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str

    def pids(self) -> list[int]:
        """The server and its worker processes (`ivr serve --workers N`), descendants too."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                queue += [
                    int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                ]
        return found

    def renice(self, niceness: int) -> None:
        """Set the scheduling priority of every thread of the server (Linux nice is per thread)."""
        for pid in self.pids():
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, int(task.name), niceness)

    def pin(self, cpus: set[int]) -> None:
        """Keep every thread of the server on `cpus` (threads started later inherit it)."""
        for pid in self.pids():
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), cpus)

    def cpu_seconds(self) -> float:
        """utime + stime of the server's processes (all their threads, workers included)."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{pid}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all processes on the machine have used (from /proc/stat), in seconds."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass
class Meter:
    """CPU used during a round: by the measured server, by this load generator, by the rest."""

    servers: Sequence[Server]
    measured: Server

    def __enter__(self) -> Meter:
        self.cpu = {s.name: s.cpu_seconds() for s in self.servers}
        self.client = time.process_time()
        self.machine = machine_busy_seconds()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        used = {s.name: s.cpu_seconds() - self.cpu[s.name] for s in self.servers}
        self.server_cpu = used[self.measured.name]
        self.client_cpu = time.process_time() - self.client
        ours = sum(used.values()) + self.client_cpu
        self.others_cpu = max(0.0, machine_busy_seconds() - self.machine - ours)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_server(
    name: str, command: Sequence[str], port: int, env: dict[str, str], log: Path
) -> Iterator[Server]:
    # Run from the log's folder, not ours: `python -m` puts the working directory first on
    # sys.path, which would shadow the --code checkout given in PYTHONPATH.
    with log.open("w") as out:
        process = subprocess.Popen(
            list(command), cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{name} server did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield Server(name, process, base)
    finally:
        process.terminate()
        process.wait(timeout=10)


# ---- calls --------------------------------------------------------------------------------


@dataclass
class Scenario:
    inputs: list[Input]
    dials: list[str]
    reference: CallResult | None = None
    flow: Path = ROOT / "flows" / "acme.yaml"  # served with the other flows of its folder
    name: str = "acme"

    @property
    def flow_id(self) -> str:
        return self.flow.stem

    def url(self, server: Server) -> str:
        return f"{server.base}/voice/{self.flow_id}"

    def caller(self) -> ScriptedCaller:
        return ScriptedCaller(self.inputs, self.dials)

    def failure(self, result: CallResult) -> str | None:
        """Why a finished call counts as failed, or None when it heard the reference call."""
        assert self.reference is not None
        if result.heard != self.reference.heard:
            different = next(
                (h for h, r in zip(result.heard, self.reference.heard, strict=False) if h != r),
                "(shorter call)",
            )
            return f"heard {different!r}"
        return None


@dataclass
class Round:
    mode: str
    server: str
    seconds: float = 0.0
    calls: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    others_cpu: float = 0.0  # CPU seconds other processes on the machine used meanwhile
    lag: list[float] = field(default_factory=list)  # open loop: first request sent late by
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def measured(self, meter: Meter) -> None:
        self.seconds = meter.seconds
        self.server_cpu = meter.server_cpu
        self.client_cpu = meter.client_cpu
        self.others_cpu = meter.others_cpu

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


async def one_call(
    http: SignedHttp, url: str, scenario: Scenario, stats: Round, due: float | None = None
) -> None:
    call = EmulatedCall(http, url, scenario.caller())
    try:
        result = await call.run()
        reason = scenario.failure(result)
    except EmulatorError as exc:
        reason = re.sub(r"https?://\S+", "URL", str(exc))[:120]
    except asyncio.CancelledError:
        reason = f"unfinished after the {DRAIN_SECONDS:g} s drain"
    stats.calls += 1
    if reason:
        stats.fail(reason)
    for i, exchange in enumerate(call.exchanges):
        if i == 0 and due is not None:
            stats.latencies.append(exchange.reply.finished - due)
            stats.lag.append(max(0.0, exchange.reply.started - due))
        else:
            stats.latencies.append(exchange.seconds)


async def closed_round(
    server: Server, servers: Sequence[Server], scenario: Scenario, seconds: float, callers: int
) -> Round:
    stats = Round("closed", server.name)
    async with new_session(connections=callers) as session:
        http = SignedHttp(session, TOKEN)
        url = scenario.url(server)
        with Meter(servers, server) as meter:
            deadline = time.perf_counter() + seconds

            async def caller_loop() -> None:
                while time.perf_counter() < deadline:
                    await one_call(http, url, scenario, stats)

            await asyncio.gather(*(caller_loop() for _ in range(callers)))
    stats.measured(meter)
    return stats


async def open_round(
    server: Server, servers: Sequence[Server], scenario: Scenario, seconds: float, rate: float
) -> Round:
    stats = Round("open", server.name)
    async with new_session(connections=512) as session:
        http = SignedHttp(session, TOKEN)
        url = scenario.url(server)
        with Meter(servers, server) as meter:
            start = time.perf_counter() + 0.01
            tasks: list[asyncio.Task[None]] = []
            for i in range(int(seconds * rate)):
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one_call(http, url, scenario, stats, due)))
            _, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    stats.measured(meter)
    return stats


# ---- figures ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Figures:
    rps: float
    p50: float
    p95: float
    p99: float
    cpu_per_request: float  # ms
    client_per_request: float  # ms
    others: float  # share of the machine's CPUs other processes used meanwhile
    calls: int
    failed: int

    @classmethod
    def of(cls, rounds: Sequence[Round]) -> Figures:
        latencies = [x for r in rounds for x in r.latencies]
        requests = max(1, len(latencies))
        seconds = sum(r.seconds for r in rounds)
        return cls(
            rps=len(latencies) / seconds,
            p50=percentile(latencies, 0.50) * 1000,
            p95=percentile(latencies, 0.95) * 1000,
            p99=percentile(latencies, 0.99) * 1000,
            cpu_per_request=sum(r.server_cpu for r in rounds) / requests * 1000,
            client_per_request=sum(r.client_cpu for r in rounds) / requests * 1000,
            others=sum(r.others_cpu for r in rounds) / (seconds * (os.cpu_count() or 1)),
            calls=sum(r.calls for r in rounds),
            failed=sum(r.failed for r in rounds),
        )


HEADER = (
    f"{'round':<7}{'server':<7}{'calls':>7}{'failed':>7}{'requests':>9}{'req/s':>7}"
    f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'CPU/req ms':>11}{'gen CPU/req':>12}{'others':>7}"
)


def row(label: str, server: str, f: Figures, requests: int) -> str:
    return (
        f"{label:<7}{server:<7}{f.calls:>7}{f.failed:>7}{requests:>9}{f.rps:>7.0f}"
        f" {f.p50:>8.2f} {f.p95:>8.2f} {f.p99:>8.2f}{f.cpu_per_request:>11.3f}"
        f"{f.client_per_request:>12.3f}{f.others:>7.0%}"
    )


def times(ours: float, theirs: float, digits: int) -> str:
    """`ours / theirs` as "2.50x"; "n/a" when the bare figure is zero (a round too short to
    move the server's CPU clock, which counts in ticks of 10 ms)."""
    return f"{ours / theirs:.{digits}f}x" if theirs > 0 else "n/a"


def report(rounds: list[Round], echo: Callable[[str], None]) -> tuple[Figures, Figures]:
    echo(HEADER)
    for i, r in enumerate(rounds):
        echo(row(str(i // 2 + 1), r.server, Figures.of([r]), r.requests))
    ivr = Figures.of([r for r in rounds if r.server == "ivr"])
    bare = Figures.of([r for r in rounds if r.server == "bare"])
    for name, f in (("ivr", ivr), ("bare", bare)):
        echo(row("all", name, f, sum(r.requests for r in rounds if r.server == name)))
    echo(
        f"ivr / bare: req/s {times(ivr.rps, bare.rps, 2)}, p50 {times(ivr.p50, bare.p50, 1)}, "
        f"p95 {times(ivr.p95, bare.p95, 1)}, p99 {times(ivr.p99, bare.p99, 1)}, "
        f"server CPU/request {times(ivr.cpu_per_request, bare.cpu_per_request, 2)}"
    )
    for name in ("ivr", "bare"):
        lag = [x for r in rounds if r.server == name for x in r.lag]
        if lag:
            echo(
                f"{name}: calls started late by the load generator: p99 "
                f"{percentile(lag, 0.99) * 1000:.2f} ms, max {max(lag) * 1000:.2f} ms"
            )
    reasons: dict[str, int] = {}
    for r in rounds:
        for reason, count in r.reasons.items():
            key = f"{r.server}: {reason}"
            reasons[key] = reasons.get(key, 0) + count
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:5]:
        echo(f"  failed calls, {count}x {reason}")
    return ivr, bare


# ---- where the server's time goes -------------------------------------------------------


async def profile(
    ivr: Server,
    servers: Sequence[Server],
    scenario: Scenario,
    args: argparse.Namespace,
    echo: Callable[[str], None],
    out: Path,
) -> None:
    """Sample `ivr serve` with py-spy (only while it holds the GIL) during a closed-loop round."""
    spy = shutil.which("py-spy")
    if spy is None:
        echo("\n--py-spy: py-spy is not on PATH (pip install py-spy)")
        return
    command = [spy, "record", "--pid", str(ivr.process.pid), "--duration", str(int(args.seconds))]
    command += ["--rate", "1000", "--format", "raw", "--gil", "--nonblocking", "--output", str(out)]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    await asyncio.sleep(0.5)  # let py-spy attach
    measured = await closed_round(ivr, servers, scenario, args.seconds, args.callers)
    _, err = await asyncio.to_thread(sampler.communicate)
    if sampler.returncode != 0 or not out.exists():
        echo(f"\npy-spy failed: {err.decode(errors='replace').strip()[-300:]}")
        return
    echo(
        f"\nwhere ivr serve spends its CPU (py-spy, samples holding the GIL, {args.callers} callers):"
    )
    cpu_per_request = Figures.of([measured]).cpu_per_request
    for line in summarise_profile(out.read_text(), cpu_per_request):
        echo(line)
    if args.py_spy_dir is not None:
        args.py_spy_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, args.py_spy_dir / out.name)


# Where a sample's time is booked: the deepest frame containing one of these markers.
AREAS = (
    ("aiosqlite/core.py", "aiosqlite thread hand-offs"),
    ("twilio/twiml/", "TwiML building and serialising"),
    ("request_validator.py", "signature check (HMAC)"),
    ("json/", "JSON encoding and decoding"),
    ("ivr_engine/json_text.py", "JSON encoding and decoding"),
    ("orjson", "JSON encoding and decoding"),
    ("parse_form", "form parsing"),
    ("_write_loop", "database writer (batching)"),
    ("runtime/session.py", "session model (copying, to and from JSON)"),
    ("runtime/", "runtime step (flow logic)"),
    ("ivr_engine/nodes/", "runtime step (flow logic)"),
    ("ivr_engine/store/", "session store"),
    ("ivr_engine/calls.py", "call service"),
    ("ivr_engine/flows.py", "call service"),
    ("ivr_engine/web/", "web layer (middleware, routes)"),
    ("starlette/", "Starlette (routing, request, response)"),
    ("uvicorn/", "uvicorn + httptools protocol"),
)


def summarise_profile(raw: str, cpu_per_request: float, top: int = 15) -> list[str]:
    """Areas, then the top functions by self time, from py-spy's raw (collapsed) output."""
    own: dict[str, int] = {}
    areas: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        stack, count_text = line.rsplit(" ", 1)
        count = int(count_text)
        frames = [
            frame.rsplit(":", 1)[0] + ")" if frame.endswith(")") else frame
            for frame in stack.split(";")
        ]
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        area = next(
            (name for frame in reversed(frames) for marker, name in AREAS if marker in frame),
            "event loop and the rest",
        )
        areas[area] = areas.get(area, 0) + count
    lines = [
        f"  {total} samples; by area (share of the server's CPU, ~ms per request at "
        f"{cpu_per_request:.3f} ms/request):"
    ]
    for area, count in sorted(areas.items(), key=lambda item: -item[1]):
        share = count / total
        lines.append(f"    {share:6.1%}  {share * cpu_per_request:6.3f} ms  {area}")
    lines.append("  top functions by self time (their own code and the C calls they make):")
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"    {count / total:6.1%}  {frame}")
    return lines


# ---- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server and mode")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per server")
    parser.add_argument("--callers", type=int, default=16, help="closed loop: concurrent callers")
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: new calls a second")
    parser.add_argument("--modes", default="closed,open", help="closed, open or both")
    parser.add_argument("--press", default="1", help="the callers' keys, as for `ivr call`")
    parser.add_argument("--dial", default="busy", help="the dial outcomes, as for `ivr call`")
    parser.add_argument(
        "--flow",
        type=Path,
        default=None,
        help="the flow file to call (default flows/acme.yaml); the other flows of its folder "
        "are served too (subflows)",
    )
    parser.add_argument(
        "--script",
        default=None,
        help="what each caller does, comma-separated, one item per prompt: keys (`1`, "
        "`123456#`), `say:words`, `silence`, and `dial:OUTCOME` for the dials (replaces "
        "--press and --dial)",
    )
    parser.add_argument(
        "--mix",
        action="store_true",
        help="measure the default mix of real flows one after another (see MIX) and print "
        "each path's ratio and the mix's",
    )
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="an extra argument for `ivr serve` (repeat it), e.g. --serve-arg=--access-log; "
        "by default `ivr serve` runs with its default settings",
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="run ivr serve on this database (postgresql://...) instead of a temporary SQLite file",
    )
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout whose `ivr serve` to measure"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the servers and the load generator at this priority (e.g. -10, as root) so "
        "other work on the machine disturbs the figures less",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin each server to the first CPU and the load generator (and the http path's "
        "API) to the others, as issue 13's measurement did; both servers alike",
    )
    parser.add_argument(
        "--dashboard-viewers",
        type=int,
        default=0,
        metavar="N",
        help="N operators keep the dashboard's calls page open while the rounds run: each logs "
        "in and fetches the list as the page refreshes itself (see --dashboard-period)",
    )
    parser.add_argument(
        "--dashboard-period",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how often each viewer's calls list refreshes (the page's own period is 5 s)",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="then profile ivr serve with py-spy during one more closed-loop round",
    )
    parser.add_argument(
        "--py-spy-dir",
        type=Path,
        default=None,
        help="keep py-spy's raw samples (collapsed stacks) in this folder, one file per path",
    )
    return parser.parse_args(argv)


async def reference_call(ivr: Server, scenario: Scenario) -> CallResult:
    async with new_session() as session:
        return await EmulatedCall(
            SignedHttp(session, TOKEN), scenario.url(ivr), scenario.caller()
        ).run()


def answers_of(call: CallResult) -> dict[str, tuple[int, str]]:
    """Path -> (status, body) of the reference call: what the bare endpoint answers."""
    answers: dict[str, tuple[int, str]] = {}
    for exchange in call.exchanges:
        path = "/" + exchange.request.url.split("/", 3)[3]
        answers.setdefault(path, (exchange.reply.status, exchange.reply.body))
    return answers


@dataclass
class Result:
    """One path's figures: closed-loop CPU per request of both servers, open-loop ivr latency."""

    name: str
    requests_per_call: int
    ivr_cpu: float = math.nan  # ms per request
    bare_cpu: float = math.nan
    p99: float = math.nan  # ms, ivr, open loop
    failed: int = 0
    calls: int = 0

    @property
    def ratio(self) -> float:
        return self.ivr_cpu / self.bare_cpu if self.bare_cpu > 0 else math.nan


async def measure(
    args: argparse.Namespace,
    scenario: Scenario,
    ivr: Server,
    bare: Server,
    echo: Callable[[str], None],
    home: Path,
) -> Result:
    servers = (ivr, bare)
    result = Result(scenario.name, len(scenario.reference.exchanges) if scenario.reference else 0)
    if args.nice:
        # With autogroup scheduling (Linux's default on desktops and here) a nice value only
        # weighs within its session's group; the group's own nice value weighs against the
        # rest of the machine. The servers are in this process's session, so set both.
        for server in servers:
            server.renice(args.nice)
        for thread in Path("/proc/self/task").iterdir():
            os.setpriority(os.PRIO_PROCESS, int(thread.name), args.nice)
        autogroup = Path("/proc/self/autogroup")
        if autogroup.exists():
            autogroup.write_text(str(args.nice))
        echo(f"servers and load generator run at nice {args.nice} (and their autogroup)")
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--pin needs two CPUs: one for the servers, one for the callers")
        for server in servers:
            server.pin({cpus[0]})
        for thread in Path("/proc/self/task").iterdir():
            os.sched_setaffinity(int(thread.name), set(cpus[1:]))
        echo(f"servers pinned to CPU {cpus[0]}, load generator to CPU(s) {cpus[1:]}")
    for server in servers:  # warm up both, unmeasured
        await closed_round(server, servers, scenario, args.warmup, args.callers)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    verdicts: list[str] = []
    if "closed" in modes:
        echo(
            f"\nclosed loop: {args.callers} callers, {args.seconds:g} s rounds, ivr and bare "
            "alternated ('others': CPU share other processes on the machine used meanwhile)"
        )
        rounds = []
        for _ in range(args.rounds):
            for server in servers:
                rounds.append(
                    await closed_round(server, servers, scenario, args.seconds, args.callers)
                )
        i, b = report(rounds, echo)
        result.ivr_cpu, result.bare_cpu = i.cpu_per_request, b.cpu_per_request
        if b.cpu_per_request > 0:
            ratio = i.cpu_per_request / b.cpu_per_request
            verdict = f"{ratio:.2f}x (target <= 3x): " + ("met" if ratio <= 3 else "MISSED")
        else:
            verdict = "no ratio: the rounds were too short to measure the bare server's CPU"
        verdicts.append(
            f"server CPU per request: ivr {i.cpu_per_request:.3f} ms, bare "
            f"{b.cpu_per_request:.3f} ms = {verdict}"
        )
    if "open" in modes:
        per_call = len(scenario.reference.exchanges) if scenario.reference else 0
        echo(
            f"\nopen loop: {args.rate:g} new calls/s ({args.rate * per_call:g} requests/s), "
            f"{args.seconds:g} s rounds, ivr and bare alternated"
        )
        rounds = []
        for _ in range(args.rounds):
            for server in servers:
                rounds.append(await open_round(server, servers, scenario, args.seconds, args.rate))
        i, _ = report(rounds, echo)
        result.p99, result.failed, result.calls = i.p99, i.failed, i.calls
        ok = i.p99 < 20 and i.failed == 0
        verdicts.append(
            f"open loop at {args.rate:g} calls/s: ivr p99 {i.p99:.2f} ms (target < 20 ms), "
            f"{i.failed} failed of {i.calls} calls (target 0): " + ("met" if ok else "MISSED")
        )
    echo("")
    for verdict in verdicts:
        echo(verdict)
    if args.py_spy:
        await profile(ivr, servers, scenario, args, echo, home / f"py-spy-{scenario.name}.txt")
    return result


# The default mix (`--mix`): the paths real flows take, each measured against its own bare
# endpoint. acme's default path also carries Twilio's recording-status, transcription and
# call-status callbacks.
MIX: list[tuple[str, Path, str]] = [
    ("acme voicemail + callbacks", ROOT / "flows" / "acme.yaml", "1,dial:busy"),
    ("acme answered", ROOT / "flows" / "acme.yaml", "1,dial:completed"),
    (
        "pharmacy, pattern gather + SMS",
        ROOT / "benchmarks" / "flows" / "pharmacy.yaml",
        "1,123456#",
    ),
    ("order lookup over http", ROOT / "benchmarks" / "flows" / "lookup.yaml", "12345#"),
    ("subflow round trip", ROOT / "benchmarks" / "flows" / "account.yaml", "4321"),
]


def parse_script(text: str) -> tuple[list[Input], list[str]]:
    """`"1,say:sales,dial:busy,silence"` -> the caller's inputs and the dial outcomes."""
    inputs: list[Input] = []
    dials: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if item.startswith("dial:"):
            dials += parse_dial_outcomes(item.removeprefix("dial:"))
        elif item.startswith("say:"):
            inputs.append(Speech(item.removeprefix("say:")))
        elif item in ("", "silence"):
            inputs.append(Keys(""))
        else:
            inputs += parse_keys(item)
    return inputs, dials


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    if args.mix:
        chosen = [(name, flow, script) for name, flow, script in MIX]
    else:
        flow = args.flow or ROOT / "flows" / "acme.yaml"
        script = args.script if args.script is not None else None
        chosen = [(flow.stem, flow, script)]
    found = []
    for name, flow, script in chosen:
        if script is None:
            inputs, dials = parse_keys(args.press), parse_dial_outcomes(args.dial)
        else:
            inputs, dials = parse_script(script)
        found.append(Scenario(list(inputs), dials, flow=flow.resolve(), name=name))
    return found


def serve_flows(flow: Path, target: Path, api: str) -> None:
    """Copy the flow's folder (its subflows) into `target`, pointing `API_URL` at `api`."""
    target.mkdir(exist_ok=True)
    for source in flow.parent.glob("*.yaml"):
        (target / source.name).write_text(source.read_text().replace("API_URL", api))


def summary(results: Sequence[Result], echo: Callable[[str], None]) -> None:
    echo("\nthe mix, side by side (server CPU per request, closed loop; p99 at the open-loop rate)")
    echo(
        f"  {'path':34} {'req/call':>8} {'ivr ms':>8} {'bare ms':>8} {'ratio':>6} {'p99 ms':>7} {'failed':>7}"
    )
    for r in results:
        echo(
            f"  {r.name:34} {r.requests_per_call:8d} {r.ivr_cpu:8.3f} {r.bare_cpu:8.3f} "
            f"{r.ratio:5.2f}x {r.p99:7.2f} {r.failed:3d}/{r.calls}"
        )
    ratios = [r.ratio for r in results if not math.isnan(r.ratio)]
    if ratios:
        worst = max(ratios)
        mean = sum(ratios) / len(ratios)
        echo(
            f"mix: mean ratio {mean:.2f}x (target <= 2.5x), worst path {worst:.2f}x (target "
            "<= 3x): " + ("met" if mean <= 2.5 and worst <= 3 else "MISSED")
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    import uvloop

    echo = lambda line: print(line, flush=True)  # noqa: E731
    load = Path("/proc/loadavg").read_text().split()[:3]
    echo(
        f"bench_voice: {os.cpu_count()} CPUs (load average {' '.join(load)}), Python "
        f"{platform.python_version()}, uvicorn {version('uvicorn')} (loop/http auto: uvloop "
        f"{version('uvloop')}, httptools {version('httptools')}), starlette "
        f"{version('starlette')}, code {args.code}"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp:
        home = Path(tmp)
        path = os.pathsep.join(p for p in (str(args.code), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "PYTHONPATH": path}
        api_port = free_port()
        api_command = [sys.executable, str(ROOT / "benchmarks" / "api_server.py")]
        api_command += ["--port", str(api_port)]
        with run_server("api", api_command, api_port, env, home / "api.log") as api:
            if args.pin:  # the API plays another system: it runs beside the callers
                api.pin(set(sorted(os.sched_getaffinity(0))[1:]))
            for n, scenario in enumerate(scenarios(args)):
                run_home = home / f"path{n}"
                run_home.mkdir()
                serve_flows(scenario.flow, run_home / "flows", api.base)
                if len(results) or args.mix:
                    echo(
                        f"\n=== {scenario.name} ({scenario.flow.relative_to(ROOT) if scenario.flow.is_relative_to(ROOT) else scenario.flow})"
                    )
                results.append(uvloop.run(measure_path(args, scenario, env, run_home, echo)))
    if args.mix:
        summary(results, echo)


DASHBOARD_PASSWORD = "bench-dashboard-password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Viewers:
    """Operators watching the dashboard's calls list during the rounds, as its page does it."""

    def __init__(self, base: str, count: int, period: float) -> None:
        self.base, self.count, self.period = base, count, period
        self.latencies: list[float] = []
        self.failures = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._watch(n * self.period / self.count))
            for n in range(self.count)
        ]

    async def _watch(self, offset: float) -> None:
        import aiohttp

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{self.base}/dashboard/login") as page:
                token = CSRF.search(await page.text())
            form = {"password": DASHBOARD_PASSWORD, "csrf": token.group(1) if token else ""}
            async with http.post(f"{self.base}/dashboard/login", data=form) as done:
                await done.read()
            await asyncio.sleep(offset)
            url = f"{self.base}/dashboard/calls?partial=1"
            while True:
                began = time.perf_counter()
                async with http.get(url, headers={"Accept": "text/html"}) as answer:
                    await answer.read()
                    ok = answer.status == 200
                self.latencies.append(time.perf_counter() - began)
                self.failures += not ok
                await asyncio.sleep(self.period)

    async def stop(self) -> str:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if not self.latencies:
            return "dashboard viewers: no page was fetched"
        times = sorted(self.latencies)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
        return (
            f"dashboard viewers: {self.count}, every {self.period:g} s: {len(times)} calls-list "
            f"pages, p50 {times[len(times) // 2] * 1000:.1f} ms, p99 {p99:.1f} ms, "
            f"{self.failures} not 200"
        )


async def measure_path(
    args: argparse.Namespace,
    scenario: Scenario,
    env: dict[str, str],
    home: Path,
    echo: Callable[[str], None],
) -> Result:
    ivr_port, bare_port = free_port(), free_port()
    ivr_command = [
        *(sys.executable, "-m", "ivr_engine", "serve", "--port", str(ivr_port)),
        *("--flows", str(home / "flows"), "--db", str(home / "ivr.sqlite3")),
        *(("--database", args.database) if args.database else ()),
        *args.serve_arg,
    ]
    if args.dashboard_viewers:
        env = {**env, "IVR_DASHBOARD_PASSWORD": DASHBOARD_PASSWORD}
    with run_server("ivr", ivr_command, ivr_port, env, home / "ivr.log") as ivr:
        scenario.reference = await reference_call(ivr, scenario)
        echo(f"each call: {' / '.join(scenario.reference.heard)}")
        exchanges = scenario.reference.exchanges
        echo(f"  = {len(exchanges)} requests: " + ", ".join(e.request.purpose for e in exchanges))
        (home / "answers.json").write_text(json.dumps(answers_of(scenario.reference)))
        bare_command = [
            *(sys.executable, str(ROOT / "benchmarks" / "bare_server.py")),
            *("--port", str(bare_port), "--answers", str(home / "answers.json")),
        ]
        with run_server("bare", bare_command, bare_port, env, home / "bare.log") as bare:
            if not args.dashboard_viewers:
                return await measure(args, scenario, ivr, bare, echo, home)
            viewers = Viewers(ivr.base, args.dashboard_viewers, args.dashboard_period)
            await viewers.start()
            try:
                return await measure(args, scenario, ivr, bare, echo, home)
            finally:
                echo(await viewers.stop())


if __name__ == "__main__":
    main()
