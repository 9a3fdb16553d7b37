"""Flow tests run cases against the real runtime; a failure says where, what, and what was heard."""

import shutil
from pathlib import Path

import pytest

from ivr_engine.loader import FlowLoader
from ivr_engine.tooling.flowtest import FileResult, FlowTests


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: Path, every_node_path: Path
) -> Path:
    """A project folder with the acme and every-node flows, as the working directory."""
    (tmp_path / "flows" / "tests").mkdir(parents=True)
    shutil.copy(root / "flows" / "acme.yaml", tmp_path / "flows" / "acme.yaml")
    shutil.copy(every_node_path, tmp_path / "flows" / "every_node.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(loader: FlowLoader, text: str) -> FileResult:
    path = Path("flows/tests/t.yaml")
    path.write_text(text, encoding="utf-8")
    return FlowTests(loader).run_file(path)


EVERY_KIND = """\
flow: every_node
cases:
  - name: account 9999 is a gold member who reaches sales
    from: "+15557654321"
    steps:
      - expect_play: "jingle.mp3"
      - expect_say: "PRESS 2 to enter your   account"
      - expect_node: main_menu
      - press: "2"
      - expect_say: "4-digit account number"
      - silence
      - expect_say: "Enter your 4-digit"
      - press: "12"
      - expect_say: "That is not an account number."
      - press: 9999
      - expect_dial: "+15550100"
      - expect_messages: [{to: "+15557654321", body: "gold member", channel: sms, node: notify}]
      - expect_vars: {tier: gold, account_number: 9999}
      - dial_result: completed
      - expect_say: Goodbye
    expect_path: [intro, breath, open_check, main_menu, account, route, vip, notify, sales, bye]
    expect_messages: [{body: "Thanks for calling, gold member."}]
    expect_end: hangup

  - name: other accounts leave a message
    steps:
      - press: "2"
      - press: "1234"
      - expect_record: true
      - expect_not_say: "Goodbye"
      - record: 20
      - expect_say: Goodbye
    expect_vars: {recording: {duration: 20}, tier: basic}
    expect_messages: []
    expect_end: hangup

  - name: a caller who says sales is put through, and hangs up while it rings
    vars: {tier: silver}
    steps:
      - say: "sales please"
      - expect_dial: ["+15550100"]
      - hangup
    expect_vars: {tier: silver}
    expect_end: caller hung up

  - name: on christmas day the line is closed
    at: "2026-12-25 10:00"
    steps:
      - expect_say: "We are \\"closed\\""
    expect_path: [intro, breath, open_check, closed_message, bye]

  - name: when a node fails the caller hears the on_error path
    fail_at: breath
    steps:
      - expect_say: "We're sorry, something went wrong."
      - expect_say: Sorry about that
    expect_path: [sorry, bye]
    expect_end: hangup
"""


def test_every_step_and_expectation_kind_passes_when_the_flow_does_what_it_says(
    project: Path, loader: FlowLoader
) -> None:
    result = run(loader, EVERY_KIND)
    assert result.problems == []
    assert [(r.case.name, r.failure) for r in result.results] == [
        (r.case.name, None) for r in result.results
    ]
    assert len(result.results) == 5


ACME = 'flow: acme\ncases:\n  - name: c\n    steps:\n      - press: "1"\n'
AT_START = [
    '    say "Thanks for calling Acme."',
    '    say "Press 1 for sales, 2 for support, or 0 to leave a message."',
    '    listen for keys (1 digit)  <- the call waits here, at node "main_menu"',
]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            '      - expect_say: "Goodbye"\n',
            [
                'flows/tests/t.yaml:6:9: step 2 (expect_say): the caller did not hear "Goodbye"',
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            '      - expect_dial: "+15550199"\n',
            [
                'flows/tests/t.yaml:6:9: step 2 (expect_dial): the call dials +15550100, not "+15550199"',
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - expect_record: true\n",
            [
                "flows/tests/t.yaml:6:9: step 2 (expect_record): the call is not recording the caller",
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - expect_node: voicemail\n",
            [
                'flows/tests/t.yaml:6:9: step 2 (expect_node): the call waits at "sales", not "voicemail"',
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            '      - press: "2"\n',
            [
                "flows/tests/t.yaml:6:9: step 2 (press): the caller pressed keys, but the call waits for "
                "a dial result: completed, answered, busy, no-answer, failed, canceled",
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - dial_result: completed\n      - expect_say: Thanks\n",
            [
                'flows/tests/t.yaml:7:9: step 3 (expect_say): the caller did not hear "Thanks"',
                '  the caller heard, after the dial result "completed":',
                '    say "Goodbye."',
                "    (the call ended: hangup)",
            ],
        ),
        (
            "      - dial_result: busy\n      - expect_not_say: after the beep\n",
            [
                'flows/tests/t.yaml:7:9: step 3 (expect_not_say): the caller heard "after the beep", '
                "which this step says they must not",
                '  the caller heard, after the dial result "busy":',
                '    say "Nobody can take your call right now. Please leave a message after the beep."',
                '    record a message (up to 120s)  <- the call waits here, at node "voicemail"',
            ],
        ),
        (
            '      - expect_play: "music.mp3"\n',
            [
                'flows/tests/t.yaml:6:9: step 2 (expect_play): nothing played "music.mp3"',
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - dial_result: completed\n      - expect_node: sales\n",
            [
                "flows/tests/t.yaml:7:9: step 3 (expect_node): the call has ended (hangup): it is not "
                'waiting at "sales"',
                '  the caller heard, after the dial result "completed":',
                '    say "Goodbye."',
                "    (the call ended: hangup)",
            ],
        ),
        (
            "      - dial_result: busy\n      - record: 5\n      - expect_vars: {voicemail: {duration: 9}}\n",
            [
                'flows/tests/t.yaml:8:9: step 4 (expect_vars): the variable "voicemail" is {"url": '
                '"https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/'
                'RE00000000000000000000000000000002", "sid": "RE00000000000000000000000000000002", '
                '"duration": 5, "transcription": null}, not {"duration": 9}',
                "  the caller heard, after a 5-second recording:",
                '    say "Thanks, we\'ll call you back soon. Goodbye."',
                "    (the call ended: hangup)",
            ],
        ),
        (
            "      - expect_vars: {voicemail: {duration: 9}}\n",
            [
                'flows/tests/t.yaml:6:9: step 2 (expect_vars): the variable "voicemail" is not set',
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - expect_messages: [{body: call you back}]\n",
            [
                "flows/tests/t.yaml:6:9: step 2 (expect_messages): 0 messages would be sent, not 1",
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - expect_end: hangup\n",
            [
                'flows/tests/t.yaml:6:9: step 2 (expect_end): the call has not ended: it waits at "sales"',
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
        (
            "      - expect_path: [welcome, main_menu, support]\n",
            [
                "flows/tests/t.yaml:6:9: step 2 (expect_path): the call went welcome -> main_menu -> "
                "sales, not welcome -> main_menu -> support",
                '  the caller heard, after pressing "1":',
                '    dial +15550100  <- the call waits here, at node "sales"',
            ],
        ),
    ],
)
def test_a_failing_step_names_its_line_what_was_expected_and_what_the_caller_heard(
    project: Path, loader: FlowLoader, steps: str, expected: list[str]
) -> None:
    (result,) = run(loader, ACME + steps).results
    assert str(result.failure).splitlines() == expected


@pytest.mark.parametrize(
    ("expectation", "expected"),
    [
        (
            "expect_path: [welcome, sales]",
            "flows/tests/t.yaml:6:5: expect_path: the call went welcome -> main_menu -> sales, "
            "not welcome -> sales",
        ),
        (
            "expect_messages: [{to: '+15550000000'}]",
            "flows/tests/t.yaml:6:5: expect_messages: 0 messages would be sent, not 1",
        ),
        (
            "expect_vars: {voicemail: 1}",
            'flows/tests/t.yaml:6:5: expect_vars: the variable "voicemail" is not set',
        ),
    ],
)
def test_a_failing_case_expectation_is_checked_after_the_caller_hangs_up(
    project: Path, loader: FlowLoader, expectation: str, expected: str
) -> None:
    (result,) = run(loader, ACME + f"    {expectation}\n").results
    assert str(result.failure) == expected


DIALLING = [
    '  the caller heard, after pressing "1":',
    '    dial +15550100  <- the call waits here, at node "sales"',
]


@pytest.mark.parametrize(
    ("steps", "first_line"),
    [
        (
            '      - say: "sales"\n',
            "flows/tests/t.yaml:6:9: step 2 (say): the caller spoke, but the call waits for a dial "
            "result: completed, answered, busy, no-answer, failed, canceled",
        ),
        (
            "      - silence\n",
            "flows/tests/t.yaml:6:9: step 2 (silence): the caller stayed silent, but the call waits for "
            "a dial result: completed, answered, busy, no-answer, failed, canceled",
        ),
        (
            "      - record: 10\n",
            "flows/tests/t.yaml:6:9: step 2 (record): the caller gave a recording, but the call waits "
            "for a dial result: completed, answered, busy, no-answer, failed, canceled",
        ),
        (
            "      - hangup\n      - dial_result: busy\n",
            "flows/tests/t.yaml:7:9: step 3 (dial_result): the call has already ended: nothing more "
            "can happen",
        ),
    ],
)
def test_a_caller_action_that_does_not_fit_fails_at_its_step(
    project: Path, loader: FlowLoader, steps: str, first_line: str
) -> None:
    (result,) = run(loader, ACME + steps).results
    lines = str(result.failure).splitlines()
    assert lines[0] == first_line
    if "hangup" in steps:
        assert lines[1:] == [
            "  the caller heard, after hanging up:",
            "    (the call ended: caller hung up)",
        ]
    else:
        assert lines[1:] == DIALLING


def test_speaking_where_the_flow_only_takes_keys_is_refused(
    project: Path, loader: FlowLoader
) -> None:
    text = 'flow: acme\ncases:\n  - name: c\n    steps:\n      - say: "sales"\n'
    (result,) = run(loader, text).results
    assert str(result.failure).splitlines() == [
        "flows/tests/t.yaml:5:9: step 1 (say): the caller cannot speak an answer here: the call "
        "listens for keys (1 digit)",
        "  the caller heard, when the call started:",
        *AT_START,
    ]


def test_a_case_expecting_another_ending_shows_the_last_thing_heard(
    project: Path, loader: FlowLoader
) -> None:
    (result,) = run(loader, ACME + "    expect_end: hangup\n").results
    assert str(result.failure).splitlines() == [
        'flows/tests/t.yaml:6:5: expect_end: the call ended with "caller hung up", not "hangup"',
        '  the caller heard, after pressing "1":',
        '    dial +15550100  <- the call waits here, at node "sales"',
    ]


def test_a_message_expectation_compares_each_field_it_names(
    project: Path, loader: FlowLoader
) -> None:
    text = (
        "flow: every_node\ncases:\n  - name: c\n    steps:\n"
        '      - press: "2"\n      - press: "9999"\n'
        "      - expect_messages: [{body: platinum}]\n"
        "      - expect_messages: [{to: '+15550000000'}]\n"
    )
    (result,) = run(loader, text).results
    assert str(result.failure).splitlines()[0] == (
        'flows/tests/t.yaml:7:9: step 3 (expect_messages): message 1: its body "Thanks for calling, '
        'gold member." does not contain "platinum"'
    )
    (result,) = run(
        loader, text.replace("      - expect_messages: [{body: platinum}]\n", "")
    ).results
    assert str(result.failure).splitlines()[0] == (
        'flows/tests/t.yaml:7:9: step 3 (expect_messages): message 1: its "to" is "+15550001234", '
        'not "+15550000000"'
    )


def test_an_error_inside_the_flow_fails_the_case_even_though_the_caller_hears_an_apology(
    project: Path, loader: FlowLoader
) -> None:
    Path("flows/broken.yaml").write_text(
        "start: hello\nvars: {count: x}\nnodes:\n  hello:\n    type: say\n"
        "    text: 'You are caller {{ count + 1 }}.'\n",
        encoding="utf-8",
    )
    (result,) = run(loader, "flow: broken\ncases:\n  - name: c\n").results
    lines = str(result.failure).splitlines()
    assert lines[0].startswith(
        "flows/tests/t.yaml:3:5: the start of the call: the flow failed here (TypeError: "
    )
    assert lines[0].endswith("): the caller heard an apology instead")
    assert lines[1:] == [
        "  the caller heard, when the call started:",
        '    say "We\'re sorry, something went wrong."',
        "    (the call ended: error)",
    ]
