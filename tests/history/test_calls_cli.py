"""The call history and `ivr calls`: calls the emulator makes against a real server appear
with the path they took, what the caller heard and pressed, and with secrets masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.history.conftest import (
    CRM_TOKEN,
    Server,
    calls,
    ivr,
    make_call,
    show,
    start_live_call,
)

MENU = "Press 1 for sales, 2 for support, or 0 to leave a message."


def test_a_call_through_the_menu_is_listed_and_its_path_is_the_one_it_took(server: Server) -> None:
    sid = make_call(server, "acme", ["9", "1"], ["busy"], from_number="+15551110001")
    (row,) = [c for c in calls(server) if c["call_sid"] == sid]
    assert (row["flow_id"], row["caller"], row["status"], row["last_node"]) == (
        "acme",
        "+15551110001",
        "completed",
        "thanks",
    )
    found = show(server, sid)
    status = [c for c in found["callbacks"] if c["kind"] == "call-status"]
    assert row["duration"] == int(status[0]["CallDuration"])  # Twilio's figure, once it ended
    steps = found["steps"]
    hops = [(h["from"], h["via"], h["to"]) for step in steps for h in step.get("path", [])]
    assert hops == [
        (None, "start", "welcome"),
        ("welcome", "next", "main_menu"),
        ("main_menu", "no match", "main_menu"),
        ("main_menu", "1", "sales"),
        ("sales", "busy", "voicemail"),
        ("voicemail", "recorded", "thanks"),
    ]
    assert [s["node"] for s in steps] == [None, "main_menu", "main_menu", "sales", "voicemail"]
    assert [s.get("event", {}).get("digits") for s in steps][:3] == [None, "9", "1"]
    assert steps[0]["told"] == ["Thanks for calling Acme.", MENU]
    assert steps[3]["event"]["dial_status"] == "busy"
    assert steps[4]["event"]["recording_url"].startswith("https://api.twilio.com/")
    assert steps[-1]["ended"] is True
    assert all(step["ms"] >= 0 for step in steps)
    assert [c["kind"] for c in found["callbacks"]] == [
        "recording-status",
        "call-status",
        "transcription",
    ]


def test_ivr_calls_show_tells_the_call_as_a_readable_timeline(server: Server) -> None:
    sid = make_call(server, "acme", ["2"], ["completed"])
    done = ivr("calls", "show", sid, "--db", str(server.db_path))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert f"call {sid} from +15551234567: flow acme" in text
    assert "call came in" in text
    assert "    went: welcome (say) -> main_menu (menu)" in text
    assert f'    heard: "{MENU}"' in text
    assert "at main_menu: pressed 2" in text
    assert "    went: main_menu -[2]-> support (dial)" in text
    assert "at support: dial completed" in text
    assert "    call ended (hangup)" in text
    assert "call-status: CallStatus=completed" in text


def test_ivr_calls_lists_and_filters_as_json_for_scripts(server: Server) -> None:
    sid = make_call(server, "hours", [], ["completed"], from_number="+15552220002")
    done = ivr(
        "calls", "--db", str(server.db_path), "--from", "+15552220002", "--since", "1h",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [(c["call_sid"], c["flow_id"]) for c in json.loads(done.stdout)] == [(sid, "hours")]
    table = ivr("calls", "--db", str(server.db_path), "--flow", "hours")
    assert table.stdout.splitlines()[0].split() == [
        "STARTED", "CALLER", "FLOW", "VERSION", "STATUS", "LAST", "NODE", "DURATION", "CALLSID",
    ]  # fmt: skip
    assert sid in table.stdout and "+15552220002" in table.stdout


def test_filters_pick_calls_by_flow_caller_status_and_start(server: Server) -> None:
    sid = make_call(server, "hours", [], ["completed"], from_number="+15552220009")
    assert [c["call_sid"] for c in calls(server, caller="+15552220009")] == [sid]
    assert {c["flow_id"] for c in calls(server, flow="hours")} == {"hours"}
    recent = datetime.now(UTC) - timedelta(minutes=10)
    assert sid in [c["call_sid"] for c in calls(server, since=recent)]
    assert sid not in [c["call_sid"] for c in calls(server, since=datetime.now(UTC) + timedelta(1))]
    assert sid not in [c["call_sid"] for c in calls(server, status="live")]
    assert sid in [c["call_sid"] for c in calls(server, status="completed")]
    assert sid not in [c["call_sid"] for c in calls(server, status="failed")]


def test_bad_input_to_ivr_calls_gets_clear_errors(server: Server) -> None:
    done = ivr("calls", "--db", str(server.db_path), "--since", "yesterday-ish")
    assert done.returncode == 2
    assert "'yesterday-ish' is not a time: use 2h, 30m, 7d, or a date such as 2026-03-04" in (
        done.stderr
    )
    done = ivr("calls", "show", "CA" + "0" * 32, "--db", str(server.db_path))
    assert done.returncode == 1
    assert f"error: there is no call CA{'0' * 32}: `ivr calls` lists them" in done.stderr


def test_a_live_call_is_listed_as_live_with_the_node_it_waits_at(server: Server) -> None:
    sid = start_live_call(server, "acme")
    live = calls(server, status="live")
    assert [(c["call_sid"], c["status"], c["last_node"]) for c in live] == [
        (sid, "live", "main_menu")
    ]


def test_a_call_that_fails_is_listed_as_failed_with_the_error_and_on_error_taken(
    server: Server,
) -> None:
    sid = make_call(server, "broken", ["1"])
    (row,) = [c for c in calls(server, status="failed") if c["call_sid"] == sid]
    assert row["flow_id"] == "broken"
    failing = [s for s in show(server, sid)["steps"] if s.get("error")]
    assert len(failing) == 1
    assert failing[0]["error_node"] == "lookup"
    assert failing[0]["error_node_type"] == "http"
    assert failing[0]["on_error"] == "sorry"
    assert CRM_TOKEN not in json.dumps(failing)


def test_sensitive_variables_and_secrets_never_reach_the_history(server: Server) -> None:
    sid = make_call(server, "pin", ["4321"])
    found = show(server, sid)
    text = json.dumps(found)
    assert "4321" not in text
    assert CRM_TOKEN not in text
    confirm = found["steps"][1]
    assert confirm["event"]["digits"] == "•••"
    assert confirm["vars"]["pin"] == "•••"
    assert confirm["told"][0] == "You entered •••."
    assert confirm["messages"] == [{"node": "text_them", "channel": "sms", "to": "+15551234567"}]
