"""The flow test format is checked like flows are: every problem at once, at file:line:column."""

import shutil
from pathlib import Path

import pytest

from ivr_engine.loader import FlowLoader
from ivr_engine.tooling.flowtest import FlowTests
from ivr_engine.tooling.testfile import (
    FlowTestError,
    find_test_files,
    is_test_file,
    read_test_file,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    (tmp_path / "flows" / "tests").mkdir(parents=True)
    shutil.copy(root / "flows" / "acme.yaml", tmp_path / "flows" / "acme.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems(text: str, loader: FlowLoader | None = None) -> list[str]:
    path = Path("flows/tests/t.yaml")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FlowTestError) as raised:
        FlowTests(loader).load(path) if loader else read_test_file(path)
    return [str(p) for p in raised.value.problems]


HEAD = "flow: acme\ncases:\n  - name: c\n    steps:\n"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            '      - presss: "1"\n',
            'flows/tests/t.yaml:5:9: case "c", step 1: "presss" is not a step (did you mean "press"?); '
            "steps are press, say, silence, dial_result, record, hangup, hold, queue_result, agent, expect_say, expect_not_say, "
            "expect_play, expect_dial, expect_record, expect_node, expect_path, expect_vars, "
            "expect_messages or expect_end",
        ),
        (
            '      - press: "1"\n        expect_dial: "+15550100"\n',
            'flows/tests/t.yaml:6:9: case "c", step 1: has two parts ("press" and "expect_dial"): '
            'put each on its own line starting with "-"',
        ),
        (
            "      - dial_result: no_answer\n",
            'flows/tests/t.yaml:5:22: case "c", step 1: "dial_result" must be a dial result (did you mean '
            '"no-answer"?): use completed, answered, busy, no-answer, failed or canceled',
        ),
        (
            "      - press: one\n",
            'flows/tests/t.yaml:5:16: case "c", step 1: "press" needs phone keys (0-9, * and #), not "one"; '
            'e.g. press: "1"',
        ),
        (
            "      - record: 0\n",
            'flows/tests/t.yaml:5:17: case "c", step 1: "record" needs the length of the message in '
            "seconds, e.g. record: 10 (use silence for none)",
        ),
        (
            "      - silence: 3\n",
            'flows/tests/t.yaml:5:18: case "c", step 1: "silence" takes no value: write it alone, e.g. '
            "- silence",
        ),
        (
            "      - expect_record: yes\n",
            'flows/tests/t.yaml:5:24: case "c", step 1: "expect_record" takes true, e.g. expect_record: true',
        ),
        (
            "      - expect_path: welcome\n",
            'flows/tests/t.yaml:5:22: case "c", step 1: "expect_path" needs a list of node ids, e.g. '
            "expect_path: [welcome, main_menu, sales]",
        ),
        (
            "      - expect_messages: [{text: hi}]\n",
            'flows/tests/t.yaml:5:26: case "c", step 1: "expect_messages" lists "text" in message 1, '
            "which is not a message field; use to, from, body, channel, media_url, template or node",
        ),
        (
            "      - hello\n",
            'flows/tests/t.yaml:5:9: case "c", step 1: "hello" is not a step: write "kind: value", '
            'e.g. press: "1" or expect_say: "Welcome"',
        ),
    ],
)
def test_a_wrong_step_is_reported_at_its_line_with_what_to_write(
    project: Path, steps: str, message: str
) -> None:
    assert problems(HEAD + steps) == [message]


def test_every_problem_in_a_file_is_reported_at_once(project: Path) -> None:
    text = (
        "flow: acme\n"
        "at: tomorrow\n"
        "cases:\n"
        "  - name: one\n"
        "    expect_paths: [welcome]\n"
        '    press: "1"\n'
        "  - name: one\n"
        "    steps: press\n"
        "  - steps: []\n"
    )
    assert problems(text) == [
        'flows/tests/t.yaml:2:5: "at": "tomorrow" is not a date and time: write "YYYY-MM-DD HH:MM", '
        'e.g. "2026-03-02 10:00"',
        'flows/tests/t.yaml:5:5: case "one": "expect_paths" is not a field here (did you mean '
        '"expect_path"?); allowed fields are name, from, to, at, vars, contact, answered_by, fail_at, steps, expect_path, '
        "expect_vars, expect_messages or expect_end",
        'flows/tests/t.yaml:6:5: case "one": "press" is not a field here (steps go in the list under '
        "`steps:`); allowed fields are name, from, to, at, vars, contact, answered_by, fail_at, steps, expect_path, "
        "expect_vars, expect_messages or expect_end",
        'flows/tests/t.yaml:7:11: case "one": another case on line 4 has the same name: give each '
        "case its own name",
        'flows/tests/t.yaml:8:12: case "one": "steps" must be a list, each step on its own line '
        'starting with "-"',
        "flows/tests/t.yaml:9:5: case 3 has no name: add `name:` saying what it checks",
    ]


def test_a_test_file_names_a_flow_that_exists(project: Path) -> None:
    assert problems("flow: acm\ncases:\n  - name: c\n") == [
        'flows/tests/t.yaml:1:7: "flow": there is no flow "acm": looked for flows/acm.yaml '
        '(did you mean "acme"?)'
    ]
    assert problems("cases:\n  - name: c\n") == [
        "flows/tests/t.yaml:1:1: the test file has no `flow:`: add `flow: <flow id>`, e.g. flow: acme"
    ]
    assert problems("flow: acme\n") == [
        "flows/tests/t.yaml:1:1: the test file has no `cases:`: add a list of cases, each with a name"
    ]


def test_yaml_mistakes_are_reported_by_the_flow_reader(project: Path) -> None:
    assert problems("flow: acme\ncases:\n  - name: c\n\tsteps: []\n") == [
        "flows/tests/t.yaml:4:1: this is not valid YAML: a tab is used for indentation; YAML needs "
        "spaces: replace the tab with spaces"
    ]


def test_nodes_and_variables_a_test_names_must_be_in_its_flow(
    project: Path, loader: FlowLoader
) -> None:
    text = (
        "flow: acme\ncases:\n  - name: c\n    fail_at: [salse]\n    vars: {voicemale: 1}\n"
        "    steps:\n      - expect_node: main_meun\n    expect_path: [welcome, mainmenu]\n"
        "    expect_vars: {voicemale: 1}\n"
    )
    assert problems(text, loader) == [
        'flows/tests/t.yaml:4:14: case "c", fail_at: "salse" is not a node of flow "acme" (did you '
        'mean "sales"?)',
        'flows/tests/t.yaml:5:11: case "c", vars: "voicemale" is not a variable of flow "acme" (did '
        'you mean "voicemail"?)',
        'flows/tests/t.yaml:7:9: case "c", step 1 (expect_node): "main_meun" is not a node of flow '
        '"acme" (did you mean "main_menu"?)',
        'flows/tests/t.yaml:8:5: case "c", expect_path: "mainmenu" is not a node of flow "acme" (did '
        'you mean "main_menu"?)',
        'flows/tests/t.yaml:9:5: case "c", expect_vars: "voicemale" is not a variable of flow "acme" '
        '(did you mean "voicemail"?)',
    ]


def test_a_flow_with_errors_keeps_its_tests_from_running_and_says_why(
    project: Path, loader: FlowLoader
) -> None:
    Path("flows/acme.yaml").write_text("start: nowhere\nnodes:\n  a: {type: hangup}\n")
    assert problems("flow: acme\ncases:\n  - name: c\n", loader) == [
        'flows/acme.yaml:1:8: "start": the flow starts at "nowhere", which is not a node in this flow',
        'flows/tests/t.yaml:1:1: cannot run these tests: the flow "flows/acme.yaml" has errors '
        "(listed above): fix them first (`ivr validate` lists them)",
    ]


def test_test_files_live_in_a_tests_folder_beside_flows_or_end_in_test_yaml(
    project: Path,
) -> None:
    Path("flows/tests/acme.yaml").write_text("flow: acme\ncases: []\n")
    Path("flows/sales.test.yaml").write_text("flow: acme\ncases: []\n")
    Path("tests").mkdir()
    Path("tests/data.yaml").write_text("a: 1\n")  # a tests folder with no flows beside it
    assert is_test_file(Path("flows/tests/acme.yaml"))
    assert is_test_file(Path("flows/sales.test.yaml"))
    assert not is_test_file(Path("flows/acme.yaml"))
    assert not is_test_file(Path("tests/data.yaml"))
    assert list(find_test_files(["."])) == [
        Path("flows/sales.test.yaml"),
        Path("flows/tests/acme.yaml"),
    ]


def test_a_test_file_beside_its_flow_finds_it(project: Path) -> None:
    Path("flows/acme.test.yaml").write_text("flow: acme\ncases:\n  - name: c\n")
    assert read_test_file(Path("flows/acme.test.yaml")).flow_path == Path("flows/acme.yaml")
