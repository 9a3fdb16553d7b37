"""`subflow`: run another flow (back at its `return`), over HTTP and in the runtime; checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ivr_engine.errors import FlowError
from ivr_engine.loader import FlowLoader
from ivr_engine.nodes import SubflowNode
from ivr_engine.project import project_registry
from ivr_engine.web import Settings, create_app
from tests import support
from tests.conftest import Twilio, session_data
from tests.support import load_valid, twiml, valid_folder
from tests.web.calls import Call

MAIN = """\
start: hello
on_error: sorry
vars: {account: "1234", pin: "not touched"}
nodes:
  hello:
    type: say
    text: Welcome.
    next: verify
  verify:
    type: subflow
    flow: verify-pin
    vars:
      account: "{{ account }}"
    return:
      verified: "{{ ok }}"
    into: check
    next: done
  done:
    type: hangup
    text: "Verified {{ verified }}, tries {{ check.tries }}, account {{ account }}, pin {{ pin }}."
  sorry:
    type: hangup
    text: "Sorry, account {{ account }}."
"""

VERIFY_PIN = """\
start: ask
vars: {account: "", ok: "no", tries: 0}
nodes:
  ask:
    type: gather
    prompt: "Enter the PIN for account {{ account }}."
    num_digits: 4
    into: pin
    next: check
  check:
    type: branch
    cases:
      - when: pin == '0000'
        next: good
    default: bad
  good:
    type: set
    vars: {ok: "yes", tries: 1}
    next: back
  bad:
    type: set
    vars: {tries: 1}
    next: back
  back:
    type: return
"""


@contextmanager
def serving(settings: Settings, flows: dict[str, str]) -> Iterator[tuple[Twilio, TestClient]]:
    for name, text in flows.items():
        (settings.flows_dir / f"{name}.yaml").write_text(text, encoding="utf-8")
    with TestClient(create_app(settings)) as client:
        yield Twilio(client), client


FLOWS = {"main": MAIN, "verify-pin": VERIFY_PIN}


def test_a_subflow_gets_its_vars_waits_for_the_caller_and_returns_values(
    settings: Settings,
) -> None:
    with serving(settings, FLOWS) as (twilio, _):
        call = Call(twilio, "main")
        asked = call.start()
        assert asked.said() == ["Welcome.", "Enter the PIN for account 1234."]
        assert asked.url("Gather") == "/voice/verify-pin/step/1/input"
        done = call.press("0000")
    assert done.said() == ["Verified yes, tries 1, account 1234, pin not touched."]
    session = session_data(settings, call.sid)
    assert session["stack"] == []
    assert session["vars"]["check"] == {"account": "1234", "ok": "yes", "tries": 1, "pin": "0000"}
    assert session["path"] == [
        "hello",
        "verify",
        "verify-pin:ask",
        "verify-pin:check",
        "verify-pin:good",
        "verify-pin:back",
        "done",
    ]


def test_while_in_a_subflow_the_session_keeps_a_frame_pinning_its_version(
    settings: Settings,
) -> None:
    with serving(settings, FLOWS) as (twilio, client):
        call = Call(twilio, "main")
        call.start()
        version = client.app.state.flows.current("verify-pin").version
    [frame] = session_data(settings, call.sid)["stack"]
    assert frame == {
        "flow": "verify-pin",
        "version": version,
        "caller": "verify",
        "vars": {"account": "1234", "pin": "not touched"},
    }


def test_a_call_inside_a_subflow_keeps_its_version_when_the_file_changes(
    settings: Settings,
) -> None:
    with serving(settings, FLOWS) as (twilio, client):
        call = Call(twilio, "main")
        call.start()
        flows = client.app.state.flows
        old = flows.current("verify-pin").version
        edited = VERIFY_PIN.replace('vars: {ok: "yes", tries: 1}', 'vars: {ok: "YES", tries: 9}')
        (settings.flows_dir / "verify-pin.yaml").write_text(edited, encoding="utf-8")
        deadline = time.monotonic() + 10
        while flows.current("verify-pin").version == old and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flows.current("verify-pin").version != old
        assert call.press("0000").said() == [
            "Verified yes, tries 1, account 1234, pin not touched."
        ]
        new_call = Call(twilio, "main", sid="CA" + "2" * 32)
        new_call.start()
        assert new_call.press("0000").said()[0].startswith("Verified YES, tries 9")


def test_a_subflow_called_directly_hangs_up_at_its_return(settings: Settings) -> None:
    with serving(settings, FLOWS) as (twilio, _):
        call = Call(twilio, "verify-pin")
        call.start()
        answer = call.press("1111")
    assert answer.verbs() == ["Hangup"]
    assert session_data(settings, call.sid)["end_reason"] == "end of flow"


def test_a_failure_in_a_subflow_without_on_error_goes_to_the_callers_on_error(
    settings: Settings,
) -> None:
    broken = VERIFY_PIN.replace("when: pin == '0000'", "when: pin + 1")  # str + int raises
    with serving(settings, {"main": MAIN, "verify-pin": broken}) as (twilio, _):
        call = Call(twilio, "main")
        call.start()
        answer = call.press("0000")
    assert answer.said() == ["We're sorry, something went wrong.", "Sorry, account 1234."]
    assert session_data(settings, call.sid)["stack"] == []


def test_a_flow_running_a_missing_subflow_is_not_served(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(settings, {"main": MAIN}) as (twilio, client):
        assert client.app.state.flows.current("main") is None
        answer = Call(twilio, "main").start()
    assert answer.said() == ["We're sorry, something went wrong."]
    assert 'node "verify", field "flow": there is no flow "verify-pin" beside this file' in (
        caplog.text
    )


# ---- sample flows, through the pure runtime (subflows found beside them) ---------------


def test_a_minimal_subflow_runs_the_flow_it_names_then_hangs_up() -> None:
    flow = load_valid("subflow_minimal")
    node = flow.nodes["hold"]
    assert isinstance(node, SubflowNode)
    assert node.flows_called() == [(("flow",), "return_minimal")]
    assert (node.targets(), node.variables_written()) == ([], [])
    result = support.Call(flow, services=valid_folder()).start()
    assert result.twiml == twiml('<Say language="en-US">Thanks for waiting.</Say><Hangup />')
    assert result.session.path == ["hold", "return_minimal:thanks", "return_minimal:back"]


def test_a_full_subflow_compiles_what_it_passes_in_and_what_it_takes_back() -> None:
    flow = load_valid("subflow_full")
    node = flow.nodes["verify"]
    passed = flow.text("verify", ("vars", "account"))
    assert passed is not None and passed.variables == {"account_number"}
    assert node.variables_written() == [
        (("return", "verified"), "verified"),
        (("return", "checked"), "checked"),
        (("into",), "pin_check"),
    ]
    assert [(t.label, t.node_id) for t in node.targets()] == [("returned", "result")]


def test_a_full_subflow_waits_for_the_caller_inside_the_subflow_with_a_pinned_frame() -> None:
    flow = load_valid("subflow_full")
    result = support.Call(flow, services=valid_folder()).start()
    asked = "https://ivr.example.com/voice/return_full/step/1"
    assert result.twiml == twiml(
        f'<Gather action="{asked}/input" input="dtmf" language="en-US" method="POST" '
        'numDigits="4" timeout="5"><Say language="en-US">Enter the PIN for account 1 2 3 4.</Say>'
        f'</Gather><Redirect method="POST">{asked}/no-input</Redirect>'
    )
    assert result.session.vars == {"account": "1234", "pin": "", "ok": "no"}
    assert result.session.stack == [
        {
            "flow": "return_full",
            "version": load_valid("return_full").version,
            "caller": "verify",
            "vars": {"account_number": "1234"},
        }
    ]


def test_a_full_subflow_takes_values_back_one_by_one_and_all_together() -> None:
    call = support.Call(load_valid("subflow_full"), services=valid_folder())
    call.start()
    result = call.press("4321")
    assert result.twiml == twiml(
        '<Say language="en-US">Account 1234: verified yes, PIN entered 4321.</Say><Hangup />'
    )
    assert result.session.stack == []
    assert result.session.vars == {
        "account_number": "1234",
        "verified": "yes",
        "checked": True,
        "pin_check": {"account": "1234", "pin": "4321", "ok": "yes"},
    }


# ---- validation -----------------------------------------------------------------------


def validate(folder: Path, flows: dict[str, str], name: str) -> list[str]:
    folder.mkdir(exist_ok=True)
    for flow_id, text in flows.items():
        (folder / f"{flow_id}.yaml").write_text(text, encoding="utf-8")
    try:
        result = FlowLoader(project_registry(folder)).load_file(folder / f"{name}.yaml")
    except FlowError as exc:
        return [f"{p.line}:{p.column}: {p.message}" for p in exc.problems]
    return [f"{p.line}:{p.column}: warning: {p.message}" for p in result.warnings]


def test_a_valid_pair_of_flows_loads_and_the_caller_may_read_returned_names(
    tmp_path: Path,
) -> None:
    assert validate(tmp_path / "flows", FLOWS, "main") == []


def test_a_subflow_that_does_not_exist_is_named_with_a_suggestion(tmp_path: Path) -> None:
    main = MAIN.replace("flow: verify-pin", "flow: verify-pn")
    assert validate(tmp_path / "flows", {"main": main, "verify-pin": VERIFY_PIN}, "main") == [
        f'11:11: node "verify", field "flow": there is no flow "verify-pn" beside this file '
        f'(no verify-pn.yaml in {tmp_path / "flows"}) (did you mean "verify-pin"?)'
    ]


def test_a_flow_running_itself_is_infinite_recursion(tmp_path: Path) -> None:
    main = MAIN.replace("flow: verify-pin", "flow: main")
    assert validate(tmp_path / "flows", {"main": main}, "main") == [
        '11:11: node "verify", field "flow": the flow "main" runs this flow again '
        '("main" -> "main"), so the call would never come back: a flow cannot run itself, '
        "directly or through other flows"
    ]


def test_flows_running_each_other_in_a_circle_are_refused_with_the_route(tmp_path: Path) -> None:
    middle = "start: go\nnodes:\n  go: {type: subflow, flow: inner, next: back}\n  back: {type: return}\n"
    inner = (
        "start: go\nnodes:\n  go: {type: subflow, flow: main, next: back}\n  back: {type: return}\n"
    )
    main = "start: hello\nnodes:\n  hello:\n    type: subflow\n    flow: middle\n"
    flows = {"main": main, "middle": middle, "inner": inner}
    assert validate(tmp_path / "flows", flows, "main") == [
        '5:11: node "hello", field "flow": the flow "middle" runs this flow again '
        '("main" -> "middle" -> "inner" -> "main"), so the call would never come back: a flow '
        "cannot run itself, directly or through other flows"
    ]
    assert validate(tmp_path / "flows", flows, "inner") == [
        '3:29: node "go", field "flow": the flow "main" runs this flow again '
        '("inner" -> "main" -> "middle" -> "inner"), so the call would never come back: a flow '
        "cannot run itself, directly or through other flows"
    ]


def test_variables_passed_in_and_read_back_must_exist_in_the_subflow(tmp_path: Path) -> None:
    main = MAIN.replace('account: "{{ account }}"', 'acount: "{{ account }}"').replace(
        'verified: "{{ ok }}"', 'verified: "{{ okay }}"'
    )
    assert validate(tmp_path / "flows", {"main": main, "verify-pin": VERIFY_PIN}, "main") == [
        '13:15: node "verify", variable "acount": the flow "verify-pin" has no variable '
        '"acount" (did you mean "account"?): pass one it declares under `vars:` '
        "(account, ok, tries)",
        '15:17: node "verify", returned value "verified": uses the variable "okay", which the '
        'flow "verify-pin" never sets (did you mean "ok"?)',
    ]


def test_a_subflow_with_errors_is_reported_from_the_caller(tmp_path: Path) -> None:
    broken = VERIFY_PIN.replace("next: back\n  back:", "next: bak\n  back:")
    assert validate(tmp_path / "flows", {"main": MAIN, "verify-pin": broken}, "main") == [
        '11:11: node "verify", field "flow": the flow "verify-pin" has errors: fix '
        f"{tmp_path / 'flows' / 'verify-pin.yaml'} first "
        f"(ivr validate {tmp_path / 'flows' / 'verify-pin.yaml'})"
    ]


def test_a_subflow_without_a_return_node_is_a_warning(tmp_path: Path) -> None:
    no_return = VERIFY_PIN.replace("  back:\n    type: return\n", "  back:\n    type: hangup\n")
    assert validate(tmp_path / "flows", {"main": MAIN, "verify-pin": no_return}, "main") == [
        '11:11: warning: node "verify", field "flow": the flow "verify-pin" has no return node, '
        "so the call never comes back here: add a node with `type: return` to verify-pin"
    ]


def test_loading_text_alone_checks_only_the_file_itself(tmp_path: Path) -> None:
    loader = FlowLoader(project_registry(tmp_path))
    flow = loader.load_text(MAIN, "main.yaml", "main").flow
    assert flow.nodes["verify"].flows_called() == [(("flow",), "verify-pin")]


def test_return_templates_with_bad_syntax_are_caught_in_the_caller(tmp_path: Path) -> None:
    main = MAIN.replace('verified: "{{ ok }}"', 'verified: "{{ ok "')
    assert validate(tmp_path / "flows", {"main": main, "verify-pin": VERIFY_PIN}, "main") == [
        '15:17: node "verify", returned value "verified": this template does not work: '
        "a {{ is never closed: end it with }}"
    ]


def test_a_call_that_ends_inside_a_subflow_is_left_in_its_main_flow(settings: Settings) -> None:
    with serving(settings, FLOWS) as (twilio, _):
        call = Call(twilio, "main")
        call.start()
        assert session_data(settings, call.sid)["vars"]["ok"] == "no"  # the subflow's
        response = twilio.post("/status/call", {**call.base_params, "CallStatus": "completed"})
        assert response.status_code == 204
    session = session_data(settings, call.sid)
    assert (session["stack"], session["vars"], session["ended"]) == (
        [],
        {"account": "1234", "pin": "not touched"},
        True,
    )
