"""The dashboard in a real browser (Playwright driving Debian's chromium) against `ivr serve`:
log in, find the emulator's call, open its timeline and its path on the diagram, retry a dead
letter and see the fake Twilio get it. Each page's screenshot is kept in artifacts/dashboard/."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import AUTH_TOKEN, ROOT
from tests.history.conftest import DEAD_NUMBER, PASSWORD, Server, make_call

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "dashboard"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        raise RuntimeError(
            "the dashboard tests need Debian's chromium: apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert AUTH_TOKEN not in page.content()
    assert PASSWORD not in page.content()


def log_in(page: Page, server: Server) -> None:
    page.goto(server.url("/dashboard/calls"))
    expect(page.locator("input[name=password]")).to_be_visible()  # 401: the login form
    shot(page, "login")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Calls")


def wait_for(check, what: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)
    return found


def outbox_status(server: Server, recipient: str) -> str | None:
    with sqlite3.connect(server.db_path) as db:
        row = db.execute(
            "SELECT id, status FROM outbox WHERE recipient = ? ORDER BY id DESC", (recipient,)
        ).fetchone()
    return row[1] if row else None


def test_an_operator_finds_the_call_and_sees_its_timeline_and_path(
    page: Page, server: Server
) -> None:
    sid = make_call(server, "acme", ["1"], ["busy"], from_number="+15554440004")
    log_in(page, server)
    row = page.locator("#call-rows tr", has_text=sid)
    expect(row).to_contain_text("+15554440004")
    expect(row).to_contain_text("completed")
    shot(page, "calls")
    page.click(f"text={sid}")
    expect(page.locator("h1")).to_contain_text(sid)
    timeline = page.locator("section.timeline")
    expect(timeline).to_contain_text("at main_menu: pressed 1")
    expect(timeline).to_contain_text("went: main_menu -[1]-> sales (dial)")
    expect(timeline).to_contain_text("at sales: dial busy")
    expect(timeline).to_contain_text("heard: “Thanks for calling Acme.”")
    recording = page.locator("ul.recordings a").first
    expect(recording).to_have_attribute(
        "href", re.compile(r"^https://api\.twilio\.com/.+/Recordings/RE")
    )
    diagram = page.locator("section.path svg.diagram")
    for edge in (
        "|start|welcome",
        "welcome|next|main_menu",
        "main_menu|1|sales",
        "sales|busy|voicemail",
    ):
        expect(diagram.locator(f'g.edge.taken[data-edge="{edge}"]')).to_have_count(1)
    expect(diagram.locator("g.edge.taken")).to_have_count(5)  # ... and voicemail -> thanks
    for node in ("welcome", "main_menu", "sales", "voicemail", "thanks"):
        expect(diagram.locator(f'g.node.visited[data-node="{node}"]')).to_have_count(1)
    expect(diagram.locator('g.node.visited[data-node="support"]')).to_have_count(0)
    shot(page, "call")

    page.click("header nav >> text=Flows")
    expect(page.locator("table.list")).to_contain_text("acme")
    shot(page, "flows")
    page.click('table.list a[href="/dashboard/flows/acme"]')
    expect(page.locator("h1")).to_contain_text("Flow acme")
    edge = page.locator('svg.diagram g.edge[data-edge="main_menu|1|sales"]')
    assert int(edge.get_attribute("data-count") or 0) >= 1
    expect(page.locator('svg.diagram g.node.ended-here[data-node="thanks"]')).to_have_count(1)
    shot(page, "flow")


def test_the_calls_page_refreshes_itself(page: Page, server: Server) -> None:
    log_in(page, server)
    sid = make_call(server, "hours", [], ["completed"], from_number="+15554440005")
    expect(page.locator("#call-rows tr", has_text=sid)).to_have_count(1, timeout=15_000)


def test_a_dead_letter_retried_from_the_dashboard_is_sent_at_twilio(
    page: Page, server: Server
) -> None:
    make_call(server, "dead")
    wait_for(lambda: outbox_status(server, DEAD_NUMBER) == "dead", "the message is dead-lettered")
    log_in(page, server)
    page.click("header nav >> text=Messages")
    dead = page.locator("table.dead tr", has_text=DEAD_NUMBER)
    expect(dead).to_contain_text("dead")
    shot(page, "messages")
    server.fake.refuse.pop(DEAD_NUMBER)  # Twilio is back
    with page.expect_navigation():
        dead.locator("button", has_text="Retry").click()
    expect(page.locator("p.notice")).to_contain_text("is queued again")
    wait_for(lambda: server.fake.sent_to(DEAD_NUMBER), "the fake Twilio gets the message")
    wait_for(lambda: outbox_status(server, DEAD_NUMBER) == "sent", "the row is marked sent")
    page.reload()
    expect(page.locator("table.dead tr", has_text=DEAD_NUMBER)).to_have_count(0)
    sent = page.locator("table.outbox tr", has_text=DEAD_NUMBER).first
    expect(sent).to_contain_text("sent")
    expect(sent).to_contain_text("re-queued from the dashboard")
    shot(page, "messages-after-retry")
    with page.expect_navigation():
        page.click("text=Log out")
    expect(page.locator("input[name=password]")).to_be_visible()


def test_a_newcomer_opens_the_dashboard_ivr_demo_keep_prints_and_finds_the_demos_call(
    page: Page,
) -> None:
    """The README's quick start, then the dashboard it points at: the printed address and
    password log in, the call the demo made is listed, and its page draws its path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("IVR_DASHBOARD_PASSWORD", None)
    done = subprocess.run(
        [sys.executable, "-m", "ivr_engine", "demo", "--keep"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    pid = int(re.search(r"\[stop it with: kill (\d+)\]", done.stdout).group(1))  # type: ignore[union-attr]
    try:
        found = re.search(r"\[dashboard: (http://\S+/dashboard) \(password: (\S+)\);", done.stdout)
        assert found, done.stdout
        url, password = found.groups()
        sid = re.search(r"ivr calls show (CA\w+)", done.stdout).group(1)  # type: ignore[union-attr]
        assert "went: main_menu -[1]-> sales (dial)" in done.stdout  # the path, in the terminal
        page.goto(f"{url}/calls")
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        expect(page.locator("#call-rows tr", has_text=sid)).to_contain_text("completed")
        page.click(f"text={sid}")
        timeline = page.locator("section.timeline")
        expect(timeline).to_contain_text("went: main_menu -[1]-> sales (dial)")
        diagram = page.locator("section.path svg.diagram")
        expect(diagram.locator('g.edge.taken[data-edge="main_menu|1|sales"]')).to_have_count(1)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "demo-call.png"), full_page=True)
        assert password not in page.content()
    finally:
        os.kill(pid, signal.SIGTERM)  # the demo's server, which this test started
