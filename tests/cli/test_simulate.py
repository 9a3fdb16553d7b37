"""`ivr simulate` plays a flow in the terminal with the real runtime, by script or typed answers."""

import asyncio
import json
from pathlib import Path

import pytest

from ivr_engine.loader import FlowLoader
from ivr_engine.project import project_registry
from ivr_engine.tooling.flowtest import run_case
from ivr_engine.tooling.testfile import Case, find_test_files, read_test_file

ROOT = Path(__file__).resolve().parents[2]


def test_a_scripted_call_prints_what_the_caller_hears_then_path_variables_and_messages(ivr) -> None:
    done = ivr(
        "simulate",
        "acme",
        "--script",
        "1,busy,12",
        "--at",
        "2026-12-24 18:30",
        "--from",
        "+15551234567",
    )
    assert done.returncode == 0, done.stderr
    recording = "RE00000000000000000000000000000002"
    assert done.stdout.splitlines() == [
        'Calling flow "acme" (flows/acme.yaml) from +15551234567 on Thu 2026-12-24 18:30 (UTC)',
        '  say "Thanks for calling Acme."',
        '  say "Press 1 for sales, 2 for support, or 0 to leave a message."',
        "[main_menu] waiting for keys (1 digit), or silence",
        "  caller presses 1",
        "[sales] dialling +15550100: what happens? completed, answered, busy, no-answer, failed, "
        "canceled",
        "  the dialled call: busy",
        '  say "Nobody can take your call right now. Please leave a message after the beep."',
        "[voicemail] recording: seconds the caller speaks, or silence",
        "  caller speaks for 12 s",
        '  say "Thanks, we\'ll call you back soon. Goodbye."',
        "",
        "The call ended: hangup",
        "Path: welcome -> main_menu -> sales -> voicemail -> thanks",
        "Variables:",
        '  voicemail = {"url": "https://api.twilio.com/2010-04-01/Accounts/'
        f'AC00000000000000000000000000000000/Recordings/{recording}", "sid": "{recording}", '
        '"duration": 12, "transcription": null}',
        "Messages that would have been sent: none",
    ]


def test_typed_answers_are_asked_again_when_they_do_not_fit_and_the_end_of_input_hangs_up(
    ivr,
) -> None:
    done = ivr("simulate", "flows/acme.yaml", "--fail", "support", stdin="\nhello\n2\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == (
        'Type keys then Enter, "say: words" to speak, an empty line for silence, "hangup" to hang up.'
    )
    assert lines[4:] == [
        "[main_menu] waiting for keys (1 digit), or silence",
        "  caller is silent",
        '  say "Sorry, I didn\'t hear anything."',
        '  say "Press 1 for sales, 2 for support, or 0 to leave a message."',
        "[main_menu] waiting for keys (1 digit), or silence",
        '  ? "hello" is not keys: type keys (0-9, * and #), "say: words", an empty line for '
        "silence, or hangup",
        "[main_menu] waiting for keys (1 digit), or silence",
        "  caller presses 2",
        '  ! the flow failed: SimulatedFault: node "support" failed on purpose (a simulated fault) '
        "(call CA00000000000000000000000000000001, node 'support')",
        '  say "We\'re sorry, something went wrong."',
        '  say "Let me take a message instead."',
        '  say "Nobody can take your call right now. Please leave a message after the beep."',
        "[voicemail] recording: seconds the caller speaks, or silence",
        "(no more input: the caller hangs up)",
        "",
        "The call ended: caller hung up",
        "Path: welcome -> main_menu -> operator_apology -> voicemail",
        "Variables: none",
        "Messages that would have been sent: none",
    ]


def test_a_script_answer_that_does_not_fit_stops_with_exit_code_1(ivr) -> None:
    done = ivr("simulate", "acme", "--script", "busy")
    assert done.returncode == 1
    assert '  ? "busy" is not keys: type keys (0-9, * and #)' in done.stdout
    assert done.stdout.splitlines()[-4:] == [
        'The call did not end: it waits at "main_menu"',
        "Path: welcome -> main_menu",
        "Variables: none",
        "Messages that would have been sent: none",
    ]


def test_script_answers_left_when_the_call_ends_are_an_error_naming_them(ivr) -> None:
    done = ivr("simulate", "acme", "--script", "1,busy,12,3,say: hi", "--at", "2026-12-24 18:30")
    assert done.returncode == 1
    assert "The call ended: hangup" in done.stdout.splitlines()
    assert done.stderr == (
        'error: the call ended with 2 script answers left unused: "3", "say: hi"; remove them '
        "from --script, or check the path the call took\n"
    )


def test_a_spoken_answer_and_silence_are_marked_as_the_callers(ivr) -> None:
    done = ivr("simulate", "acme", "--script", ",say: sales please", "--at", "2026-12-24 18:30")
    lines = done.stdout.splitlines()
    assert lines[4] == "  caller is silent"
    assert '  caller says "sales please"' in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--at", "Christmas"],
            '--at "Christmas" is not a date and time: write "YYYY-MM-DD HH:MM", e.g. "2026-03-02 10:00"',
        ),
        (
            ["--var", "voicemale=1"],
            '--var: "voicemale" is not a variable of flow "acme" (did you mean "voicemail"?)',
        ),
        (["--var", "voicemail"], '--var "voicemail": write NAME=VALUE, e.g. --var account=1234'),
        (["--fail", "salse"], '--fail: fail_at: "salse" is not a node of flow "acme"'),
    ],
)
def test_wrong_options_are_refused_with_exit_code_2(ivr, args: list[str], message: str) -> None:
    done = ivr("simulate", "acme", "--script", "", *args)
    assert (done.returncode, done.stderr, done.stdout) == (2, message + "\n", "")


def test_an_unknown_flow_is_refused(ivr) -> None:
    done = ivr("simulate", "nope", "--script", "1")
    assert (done.returncode, done.stderr) == (
        2,
        "error: flows/nope.yaml: no such flow file (give a flow file or a flow id)\n",
    )


# ---- every shipped flow, played by script with the answers of its flow tests ---------------


def _script(case: Case) -> str | None:
    answers = []
    for step in case.steps:
        if step.kind == "press":
            answers.append(step.value)
        elif step.kind == "say":
            answers.append(f"say: {step.value}")
        elif step.kind == "silence":
            answers.append("")
        elif step.kind in ("dial_result", "record", "hangup"):
            answers.append(str(step.value) if step.kind != "hangup" else "hangup")
        elif step.kind == "hold":
            answers.append(f"hold {step.value}")
        elif step.kind == "queue_result":
            answers.append(f"queue {step.value}")
        elif step.kind == "agent":
            status, handoff = step.value
            answers.append(f"{status} {json.dumps(handoff)}" if handoff is not None else status)
    script = ",".join(answers)
    return None if any("," in a for a in answers) else script


def _shipped_cases() -> list[tuple[Path, Case]]:
    found = []
    for path in find_test_files([ROOT / "flows"]):
        for case in read_test_file(path).cases:
            found.append((path, case))
    return found


@pytest.mark.parametrize(
    ("test_path", "case"),
    _shipped_cases(),
    ids=lambda v: v.name if isinstance(v, Case) else v.stem,
)
def test_every_shipped_flow_plays_by_script_as_its_flow_tests_say(
    ivr, test_path: Path, case: Case
) -> None:
    script = _script(case)
    assert script is not None, "spoken answers with commas cannot go in a --script"
    test_file = read_test_file(test_path)
    flow = FlowLoader(project_registry(ROOT)).load_file(test_file.flow_path).flow
    expected = asyncio.run(run_case(test_file, flow, case)).log
    args = ["simulate", str(test_file.flow_path), "--script", script, "--at", case.at]
    if case.caller:
        args += ["--from", case.caller]
    for name, value in case.variables.items():
        args += ["--var", f"{name}={str(value).lower() if isinstance(value, bool) else value}"]
    for node in case.fail_at:
        args += ["--fail", node]
    if case.called:
        args += ["--to", case.called]
    for name, value in (case.contact or {}).items():
        args += ["--contact", f"{name}={value}"]
    if case.answered_by:
        args += ["--answered-by", case.answered_by]
    done = ivr(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Path: {' -> '.join(expected.path)}" in done.stdout.splitlines()
    assert f"The call ended: {expected.end_reason}" in done.stdout.splitlines()
