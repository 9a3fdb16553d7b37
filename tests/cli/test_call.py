"""`ivr call` end to end: the real command in a subprocess against `ivr serve` in another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from subprocess import PIPE

from tests.conftest import AUTH_TOKEN, ROOT, Served, free_port, ivr_serve, subprocess_env

MENU = "Press 1 for sales, 2 for support, or 0 to leave a message."


def ivr_call(
    *args: str, token: str | None = AUTH_TOKEN, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(**({"TWILIO_AUTH_TOKEN": token} if token else {}))
    return subprocess.run(
        [sys.executable, "-m", "ivr_engine", "call", *args],
        cwd=ROOT,
        env=env,
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_pressing_1_with_sales_busy_prints_the_whole_call_down_to_the_voicemail(
    served: Served,
) -> None:
    url = served.url("/voice/acme")
    done = ivr_call(url, "--press", "1", "--dial", "busy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"[calling {url} from +15551234567]",
        "Thanks for calling Acme.",
        MENU,
        "[waiting for keys] pressed 1",
        "[dialling +15550100] busy",
        "Nobody can take your call right now. Please leave a message after the beep.",
        "[beep]",
        '[recording] 4 s: "Hello, this is a test message left through ivr call."',
        "Thanks, we'll call you back soon. Goodbye.",
        "[hang up]",
        "[call ended: hang up, 22 s, 7 requests]",
    ]
    assert done.stderr == ""


def test_press_and_say_answers_are_used_in_the_order_given(served: Served) -> None:
    done = ivr_call(served.url("/voice/acme"), "--press", "9", "--say", "hello", "--press", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[3:9] == [
        "[waiting for keys] pressed 9",
        "Sorry, that's not a valid choice.",
        MENU,
        '[waiting for keys] said "hello", but only keys count here',
        "Sorry, I didn't hear anything.",
        MENU,
    ]
    assert "[waiting for keys] pressed 2" in done.stdout


def test_without_a_script_answers_are_read_from_standard_input(served: Served) -> None:
    done = ivr_call(served.url("/voice/acme"), stdin="1\nengaged\nno-answer\nPlease call me back\n")
    assert done.returncode == 0, done.stderr
    outcomes = "completed, answered, busy, no-answer, failed, canceled"
    assert done.stdout.splitlines()[1:] == [
        "Thanks for calling Acme.",
        MENU,
        "[waiting for keys] > 1",
        f"[dialling +15550100] how does it end? ({outcomes}; Enter: completed) > engaged",
        f'"engaged" is not a dial outcome: type one of {outcomes}',
        f"[dialling +15550100] how does it end? ({outcomes}; Enter: completed) > no-answer",
        "Nobody can take your call right now. Please leave a message after the beep.",
        "[beep]",
        "[recording] your message (Enter alone: silence) > Please call me back",
        "Thanks, we'll call you back soon. Goodbye.",
        "[hang up]",
        "[call ended: hang up, 40 s, 7 requests]",
    ]


def test_end_of_input_is_the_caller_hanging_up(served: Served) -> None:
    done = ivr_call(served.url("/voice/acme"), stdin="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "[caller hung up]",
        "[call ended: caller hung up, 7 s, 2 requests]",
    ]


def test_a_wrong_token_prints_one_clear_line_and_no_traceback(served: Served) -> None:
    done = ivr_call(served.url("/voice/acme"), "--press", "1", token="wrong-token")
    assert done.returncode == 1
    assert done.stderr == (
        "error: 403: the server rejected the signature of the incoming call request "
        "(is TWILIO_AUTH_TOKEN the same on both sides?)\n"
    )


def test_without_a_token_it_warns_that_requests_are_unsigned(served: Served) -> None:
    done = ivr_call(served.url("/voice/acme"), "--press", "1", token=None)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "note: TWILIO_AUTH_TOKEN is not set, so requests are not signed: only a server started "
        "with --insecure accepts them",
        "error: 403: the server rejected the incoming call request: it was not signed "
        "(set TWILIO_AUTH_TOKEN to the server's token)",
    ]


def test_no_server_listening_is_reported_in_one_line_after_waiting_for_it() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/voice/acme"
    done = ivr_call(url, "--press", "1", "--wait", "0.3")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"waiting for a server at {url} ...",
        f"error: cannot connect to http://127.0.0.1:{port}: connection refused "
        "(is `ivr serve` running there?)",
    ]


def test_a_call_placed_just_after_starting_the_server_waits_for_it(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/voice/acme"
    env = subprocess_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    command = [sys.executable, "-m", "ivr_engine", "call", url, "--press", "2", "--wait", "30"]
    with subprocess.Popen(command, env=env, stdout=PIPE, stderr=PIPE, text=True) as calling:
        assert calling.stderr is not None
        assert calling.stderr.readline() == f"waiting for a server at {url} ...\n"
        with ivr_serve(tmp_path, port, wait=False):
            out, err = calling.communicate(timeout=60)
    assert calling.returncode == 0, err
    assert out.splitlines()[-1] == "[call ended: hang up, 70 s, 4 requests]"


def test_verbose_shows_each_request_with_its_parameters(served: Served) -> None:
    done = ivr_call(served.url("/voice/acme"), "--press", "2", "-v")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("  CallSid CA")
    assert lines[2].startswith(
        f"  > POST {served.url('/voice/acme/step/1/input')} Digits=2 FinishedOnKey= -> 200 in "
    )


def test_a_key_that_is_not_a_phone_key_is_refused_before_calling() -> None:
    done = ivr_call("http://127.0.0.1:9/voice/acme", "--press", "1,x")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        'ivr call: error: --press: "x" is not a phone key: use 0-9, * and #, with commas '
        "between answers"
    )


def test_an_address_without_http_is_refused() -> None:
    done = ivr_call("127.0.0.1:8000/voice/acme")
    assert done.returncode == 2
    assert done.stderr == (
        'error: "127.0.0.1:8000/voice/acme" is not a web address: give the flow\'s Voice URL, '
        "e.g. http://127.0.0.1:8000/voice/acme\n"
    )
