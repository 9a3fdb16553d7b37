"""The voice benchmark runs end to end (figures are printed, never asserted: speed is not tested)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, subprocess_env


def test_a_short_benchmark_run_prints_both_tables_the_ratios_and_a_verdict_per_target() -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(ROOT / "benchmarks" / "bench_voice.py")),
            *("--seconds", "0.3", "--warmup", "0.1", "--rounds", "1"),
            *("--callers", "2", "--rate", "20"),
        ],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "= 7 requests: incoming call, gather, dial, record, recording status callback" in out
    assert out.count("ivr / bare: req/s ") == 2
    tables = [line for line in out.splitlines() if line.startswith(("1      ivr", "1      bare"))]
    assert len(tables) == 4
    assert all(line.split()[3] == "0" for line in tables), out  # no failed call
    assert "server CPU per request: ivr " in out
    assert "open loop at 20 calls/s: ivr p99 " in out


def test_profile_samples_are_booked_to_the_deepest_area_they_ran_in() -> None:
    from benchmarks.bench_voice import summarise_profile

    raw = "\n".join(
        [
            "run (uvicorn/main.py:1);parse_form (ivr_engine/web/twilio_auth.py:40);"
            "unquote (urllib/parse.py:9) 3",
            "run (uvicorn/main.py:1);to_json (ivr_engine/runtime/session.py:3);"
            "iterencode (json/encoder.py:5) 1",
        ]
    )
    lines = summarise_profile(raw, cpu_per_request=0.4)
    assert lines[:3] == [
        "  4 samples; by area (share of the server's CPU, ~ms per request at 0.400 ms/request):",
        "     75.0%   0.300 ms  form parsing",
        "     25.0%   0.100 ms  JSON encoding and decoding",
    ]
    assert lines[4] == "     75.0%  unquote (urllib/parse.py)"
