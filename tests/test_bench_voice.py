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
            "run (uvicorn/main.py:1);to_json (ivr_engine/runtime/session.py:3);"
            "dumps (ivr_engine/json_text.py:20) 1",
        ]
    )
    lines = summarise_profile(raw, cpu_per_request=0.4)
    assert lines[:3] == [
        "  5 samples; by area (share of the server's CPU, ~ms per request at 0.400 ms/request):",
        "     60.0%   0.240 ms  form parsing",
        "     40.0%   0.160 ms  JSON encoding and decoding",
    ]
    assert lines[4] == "     60.0%  unquote (urllib/parse.py)"


def test_a_ratio_to_a_zero_bare_figure_is_not_a_crash() -> None:
    # a round shorter than a clock tick (10 ms of CPU) can leave the bare server at 0 ms
    from benchmarks.bench_voice import times

    assert times(0.3, 0.1, 2) == "3.00x"
    assert times(0.3, 0.0, 2) == "n/a"


def test_a_script_names_keys_words_silence_and_dial_outcomes() -> None:
    from benchmarks.bench_voice import parse_script
    from ivr_engine.emulator.caller import Keys, Speech

    assert parse_script("1,123456#,say:sales please,silence,dial:busy") == (
        [Keys("1"), Keys("123456#"), Speech("sales please"), Keys("")],
        ["busy"],
    )


def test_any_flow_and_script_can_be_measured_here_the_pharmacy_path_with_its_sms() -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(ROOT / "benchmarks" / "bench_voice.py")),
            *("--flow", str(ROOT / "benchmarks" / "flows" / "pharmacy.yaml")),
            *("--script", "1,123456#", "--seconds", "0.3", "--warmup", "0.1"),
            *("--rounds", "1", "--callers", "2", "--rate", "20", "--modes", "closed"),
        ],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pressed 123456#" in done.stdout
    assert "Prescription 1 2 3 4 5 6 will be ready tomorrow" in done.stdout
    assert "= 4 requests: incoming call, gather, gather, call status callback" in done.stdout
